"""Pages of the two lists: dashboards, the people list, records, call lists, the ledger.

Every page that shows a person's details gets them through queries.care_for /
queries.visible_cares and logs the read with queries.log_reads; counts pages
use queries.area_counts, which never returns names.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import DomainError, NotFound
from baogong.core.http import domain_errors
from baogong.orders.queries import open_rounds_for_household, round_offers
from baogong.orders.round_forms import ProxyOrderForm
from baogong.welfare import exports, importer, queries, services
from baogong.welfare.forms import CallForm, CareForm, ExportForm, ImportForm
from baogong.welfare.models import Need, SpecialCare, Task


@require_GET
@login_required
@domain_errors
def home(request: HttpRequest) -> HttpResponse:
    """My calls and tasks (assigned volunteers), and the areas whose lists I keep or watch."""
    scope = scope_for(request.user)
    today = timezone.localdate()
    calls = queries.call_list(queries.volunteer_cares(scope), today=today)
    queries.log_reads(request.user, [row.care for row in calls], view="my_calls")
    # The top nodes of the user's staff grants (a superuser starts from the districts).
    areas = (
        scope.root_areas
        if scope.superuser
        else scope.areas(queries.SUMMARY_ROLES).filter(
            path__in=scope.paths_for(queries.SUMMARY_ROLES)
        )
    )
    return render(
        request,
        "welfare/home.html",
        {
            "calls": calls,
            "tasks": queries.open_tasks(request.user),
            "areas": areas,
            "today": today,
        },
    )


@require_GET
@login_required
@domain_errors
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """Counts for an area and each area below it; names only one click further, for staff."""
    scope = scope_for(request.user)
    area = queries.summary_area(scope, pk)
    children = list(area.children.order_by("name")) if area.kind != Area.Kind.COMPOUND else []
    today = timezone.localdate()
    total, rows = queries.area_counts(area, children, today=today)
    details = scope.areas(queries.DETAIL_ROLES).filter(pk=area.pk).exists()
    export_form = ExportForm()
    if not details:
        del export_form.fields["personal"]  # names and phones: community staff only
    return render(
        request,
        "welfare/dashboard.html",
        {
            "area": area,
            "total": total,
            "rows": rows,
            "today": today,
            "details": details,
            "breadcrumbs": list(
                scope.areas(queries.SUMMARY_ROLES).filter(pk__in=area.ancestor_ids).order_by("path")
            ),
            "export_form": export_form,
        },
    )


@require_GET
@login_required
@domain_errors
def people(request: HttpRequest, pk: int) -> HttpResponse:
    """The people list of an area (community staff), every row's read logged."""
    scope = scope_for(request.user)
    area = queries.detail_area(scope, pk)
    rows = list(queries.people_rows(area))
    queries.log_reads(request.user, rows, view="people_list")
    return render(
        request, "welfare/people.html", {"area": area, "rows": rows, "today": timezone.localdate()}
    )


@require_GET
@login_required
@domain_errors
def area_calls(request: HttpRequest, pk: int) -> HttpResponse:
    """The community's call list: everyone due or overdue, in round-of-calls order."""
    scope = scope_for(request.user)
    area = queries.detail_area(scope, pk)
    today = timezone.localdate()
    calls = queries.call_list(queries.visible_cares(scope).filter(queries.under(area)), today=today)
    queries.log_reads(request.user, [row.care for row in calls], view="call_list")
    return render(request, "welfare/calls.html", {"area": area, "calls": calls, "today": today})


@require_GET
@login_required
@domain_errors
def needs(request: HttpRequest, pk: int) -> HttpResponse:
    """The needs ledger of an area: open needs by category, since when, who handles them."""
    scope = scope_for(request.user)
    area = queries.detail_area(scope, pk)
    rows = list(queries.open_needs(area))
    queries.log_reads(request.user, {need.care for need in rows}, view="needs_list")
    return render(request, "welfare/needs.html", {"area": area, "rows": rows})


@require_GET
@login_required
@domain_errors
def access_log(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    area = queries.detail_area(scope, pk)
    return render(
        request, "welfare/access_log.html", {"area": area, "entries": queries.access_log(area)}
    )


@require_GET
@login_required
@domain_errors
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """A list as of a date, as Excel; names and phones only for community staff (logged)."""
    scope = scope_for(request.user)
    area = queries.summary_area(scope, pk)
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise NotFound()
    personal = form.cleaned_data["personal"]
    if personal:
        area = queries.detail_area(scope, pk)
    as_of = form.cleaned_data["as_of"]
    when = timezone.make_aware(dt.datetime.combine(as_of, dt.time.max)) if as_of else timezone.now()
    which = form.cleaned_data["list"] or "people"
    data, care_ids = exports.workbook(area, which, when=when, personal=personal)
    if personal:
        queries.log_reads(
            request.user, [SpecialCare(pk=i) for i in care_ids], view=f"export_{which}"
        )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = (as_of or timezone.localdate()).isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="welfare-{which}-{area.pk}-{stamp}.xlsx"'
    )
    return response


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def register_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the community's special-care register: row errors named, valid rows kept."""
    scope = scope_for(request.user)
    area = queries.detail_area(scope, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = importer.register_import(upload.read(), into=area, by=request.user)
        except DomainError as error:
            form.add_error("file", error.message)
    return render(request, "welfare/import.html", {"area": area, "form": form, "report": report})


@require_GET
@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        importer.template_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="special-care-register.xlsx"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def care_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a resident on the register or edit their record (community staff)."""
    scope = scope_for(request.user)
    resident = (
        scope.residents(queries.DETAIL_ROLES)
        .select_related("household__building", "household__compound__parent")
        .filter(pk=pk)
        .first()
    )
    if resident is None:
        raise NotFound()
    care = SpecialCare.objects.filter(resident=resident).first()
    if care is not None:
        queries.log_reads(request.user, [care], view="edit")
    form = CareForm(
        request.POST or None,
        initial=CareForm.initial_for(care, resident.needs_door_delivery),
        volunteers=queries.volunteers_near(resident.household.compound.parent),
    )
    if request.method == "POST" and form.is_valid():
        try:
            care = services.care_save(resident=resident, details=form.details(), by=request.user)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("welfare:care_detail", pk=care.pk)
    return render(
        request, "welfare/care_form.html", {"resident": resident, "care": care, "form": form}
    )


@require_POST
@login_required
@domain_errors
def care_remove(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    care = queries.care_for(scope, pk, view="remove")
    services.care_remove(care=care, by=request.user)
    messages.success(request, _("Taken off the special-care register."))
    return redirect("welfare:care_detail", pk=care.pk)


@require_GET
@login_required
@domain_errors
def care_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    care = queries.care_for(scope, pk, view="detail")
    return render(
        request,
        "welfare/care_detail.html",
        {
            "care": care,
            "is_staff": queries.is_staff_for(scope, care),
            "checkins": care.checkins.select_related("called_by")[:20],
            "needs": care.needs.select_related(
                "order", "handler", "requisition_line__requisition"
            ).order_by("-created_at")[:30],
            "tasks": care.tasks.filter(state=Task.State.OPEN).select_related("assignee"),
            "volunteers": care.volunteers.order_by("name"),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def call(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a check-in call: outcome, wellbeing, up to three needs, a note."""
    scope = scope_for(request.user)
    care = queries.care_for(scope, pk, view="call")
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.checkin_record(
                care=care,
                outcome=form.cleaned_data["outcome"],
                wellbeing=form.cleaned_data["wellbeing"],
                note=form.cleaned_data["note"],
                needs=form.needs(),
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _call_summary(result))
            if result.needs:
                return redirect("welfare:care_detail", pk=care.pk)
            return redirect("welfare:home")
    return render(request, "welfare/call.html", {"care": care, "form": form})


def _call_summary(result: services.CallResult) -> str:
    parts = [_("Call saved.")]
    if result.urgent:
        parts.append(_("Community staff have been alerted."))
    if result.home_visit is not None:
        parts.append(_("Not reached twice: a home visit task was made."))
    if result.needs:
        parts.append(
            _("%(count)s need(s) recorded: choose how to meet them below.")
            % {"count": len(result.needs)}
        )
    return " ".join(parts)


@require_POST
@login_required
@domain_errors
def need_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One button per need: door delivery, medicine purchase, met, cancelled."""
    need = _need(request, pk, view="need_action")
    action = request.POST.get("action", "")
    try:
        if action in (Task.Kind.DOOR_DELIVERY, Task.Kind.MEDICINE_PURCHASE):
            services.need_task(need=need, kind=action, by=request.user)
            messages.success(request, _("Task made."))
        elif action == Need.Action.REQUISITION:
            services.need_requisition(need=need, by=request.user)
            messages.success(request, _("Added to a draft supply request of the community."))
        elif action in (Need.State.MET, Need.State.CANCELLED):
            services.need_close(need=need, state=action, by=request.user)
            messages.success(request, _("Need updated."))
        else:
            messages.error(request, _("Choose what to do with the need."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("welfare:care_detail", pk=need.care_id)


def _need(request: HttpRequest, pk: int, *, view: str) -> Need:
    scope = scope_for(request.user)
    need = (
        Need.objects.filter(pk=pk, care__in=queries.visible_cares(scope))
        .select_related("care__household__building", "care__household__compound", "care__resident")
        .first()
    )
    if need is None:
        raise NotFound()
    queries.log_reads(request.user, [need.care], view=view)
    return need


@require_POST
@login_required
@domain_errors
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    task = Task.objects.filter(pk=pk).select_related("care").first()
    if task is None or not (
        task.assignee_id == request.user.pk
        or queries.visible_cares(scope).filter(pk=task.care_id).exists()
    ):
        raise NotFound()
    try:
        services.task_done(task=task, by=request.user)
        messages.success(request, _("Task done."))
    except DomainError as error:
        messages.error(request, error.message)
    target = request.POST.get("next", "")
    # Only back into this app: a crafted "next" must not send the user elsewhere.
    if target.startswith("/welfare/") and "//" not in target:
        return redirect(target)
    return redirect("welfare:home")


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def need_order(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a need into an order on behalf in an open round for the compound, pre-filled."""
    need = _need(request, pk, view="need_order")
    household = need.care.household
    rounds = list(open_rounds_for_household(household))
    chosen = request.POST.get("round") or request.GET.get("round")
    round_ = next((r for r in rounds if str(r.pk) == str(chosen)), None)
    if round_ is None and len(rounds) == 1:
        round_ = rounds[0]
    context = {"need": need, "care": need.care, "rounds": rounds, "round": round_}
    if round_ is not None:
        offers = list(round_offers(round_))
        open_needs = list(need.care.needs.filter(state=Need.State.OPEN))
        form = ProxyOrderForm(
            request.POST or None,
            offers=offers,
            current=queries.prefill(offers, open_needs) if need.state == Need.State.OPEN else {},
            initial={"household": household.pk},
        )
        if request.method == "POST" and form.is_valid():
            try:
                order = services.need_order(
                    need=need, round_=round_, lines=form.lines(), by=request.user
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Ordered for %(address)s: pickup code %(code)s, %(amount)s due.")
                    % {
                        "address": household.address,
                        "code": order.pickup_code,
                        "amount": f"¥{order.amount_due:.2f}",
                    },
                )
                return redirect("welfare:care_detail", pk=need.care_id)
        context["form"] = form
    return render(request, "welfare/need_order.html", context)
