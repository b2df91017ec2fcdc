"""Pages of the chain's first half: requisitions, street requests and their approvals."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors
from baogong.requisitions import queries, services
from baogong.requisitions.access import (
    BUREAU_ROLES,
    RAISE_ROLES,
    STREET_ROLES,
    VIEW_ROLES,
    reaches,
)
from baogong.requisitions.models import ApprovalStep, Requisition, StreetRequest, Urgency
from baogong.requisitions.views.common import field, visible

BLANK_LINES = 6
PAGE_SIZE = 25


def _require_view(request: HttpRequest):
    scope = scope_for(request.user)
    if not scope.has_any(VIEW_ROLES):
        raise NotAllowed()
    return scope


@require_GET
@login_required
@domain_errors
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open requisitions by stage and age, goods in transit, shortages, settlements due."""
    scope = _require_view(request)
    rows = queries.dashboard(scope)
    return render(
        request,
        "requisitions/dashboard.html",
        {
            "rows": rows,
            "many": len(rows) > 1,
            "can_raise": scope.has_any(RAISE_ROLES),
            "can_consolidate": scope.has_any(STREET_ROLES),
        },
    )


@require_GET
@login_required
@domain_errors
def requisition_list(request: HttpRequest) -> HttpResponse:
    scope = _require_view(request)
    state = request.GET.get("state", "")
    rows = queries.requisitions_for(scope).prefetch_related("lines")
    if state in Requisition.State.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    requests = queries.requests_for(scope).exclude(state=StreetRequest.State.REJECTED)[:20]
    return render(
        request,
        "requisitions/requisition_list.html",
        {
            "page": page,
            "state": state,
            "states": Requisition.State.choices,
            "query": f"state={state}" if state else "",
            "requests": requests,
            "can_raise": scope.has_any(RAISE_ROLES),
            "can_consolidate": scope.has_any(STREET_ROLES),
        },
    )


def _posted_lines(request: HttpRequest) -> list[services.LineSpec]:
    lines = []
    for i in range(int(request.POST.get("line_count", BLANK_LINES))):
        values = {
            k: field(request, f"{k}-{i}")
            for k in ("item", "spec", "quantity", "unit", "reason", "urgency", "needs_note")
        }
        if any(values[k] for k in ("item", "spec", "quantity", "unit", "reason")):
            values["urgency"] = values["urgency"] or Urgency.NORMAL
            lines.append(services.LineSpec(**values))
    return lines


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def requisition_create(request: HttpRequest) -> HttpResponse:
    """A community's request: lines of item, specification, quantity, unit, reason, urgency."""
    scope = scope_for(request.user)
    scope.require(RAISE_ROLES)
    communities = scope.areas(RAISE_ROLES).filter(kind=Area.Kind.COMMUNITY).order_by("path")
    error = None
    if request.method == "POST":
        try:
            community = visible(communities, request.POST.get("community"))
            requisition = services.requisition_create(
                community=community,
                lines=_posted_lines(request),
                by=request.user,
                urgency=field(request, "urgency", Urgency.NORMAL),
                note=field(request, "note"),
                submit=request.POST.get("submit_now") == "1",
            )
        except NotFound:
            error = _("Choose one of your communities.")
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(
                request, _("Supply request %(number)s saved.") % {"number": requisition.number}
            )
            return redirect("requisitions:requisition_detail", requisition.pk)
    rows = [
        {
            k: request.POST.get(f"{k}-{i}", "")
            for k in ("item", "spec", "quantity", "unit", "reason", "urgency", "needs_note")
        }
        for i in range(BLANK_LINES)
    ]
    return render(
        request,
        "requisitions/requisition_form.html",
        {
            "communities": communities,
            "rows": rows,
            "error": error,
            "urgencies": Urgency.choices,
            "line_count": BLANK_LINES,
            "posted": request.POST,
        },
        status=422 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def requisition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The requisition, each line's decisions, and where its goods went (forward trace)."""
    scope = _require_view(request)
    requisition = visible(queries.requisitions_for(scope), pk)
    return render(
        request,
        "requisitions/requisition_detail.html",
        {
            "requisition": requisition,
            "trace": queries.trace_forward(requisition),
            "can_submit": requisition.state == Requisition.State.DRAFT
            and reaches(scope, RAISE_ROLES, requisition.community),
            "can_review": requisition.state == Requisition.State.SUBMITTED
            and reaches(scope, STREET_ROLES, requisition.community),
        },
    )


@require_POST
@login_required
@domain_errors
def requisition_submit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _require_view(request)
    requisition = visible(queries.requisitions_for(scope), pk)
    try:
        services.requisition_submit(requisition=requisition, by=request.user)
        messages.success(request, _("Sent to the street office."))
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    return redirect("requisitions:requisition_detail", requisition.pk)


def _posted_decisions(request: HttpRequest, lines) -> dict[int, services.Decision]:
    decisions = {}
    for line in lines:
        kind = request.POST.get(f"decision-{line.pk}")
        if kind:
            decisions[line.pk] = services.Decision(
                kind, field(request, f"quantity-{line.pk}"), field(request, f"reason-{line.pk}")
            )
    return decisions


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def requisition_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The street office approves, reduces (with reason) or rejects each line."""
    scope = _require_view(request)
    requisition = visible(queries.requisitions_for(scope), pk)
    if not reaches(scope, STREET_ROLES, requisition.community):
        raise NotAllowed()
    return _decide_page(
        request,
        document=requisition,
        decide=lambda decisions: services.requisition_review(
            requisition=requisition, decisions=decisions, by=request.user
        ),
        level=_("street office"),
        detail="requisitions:requisition_detail",
        is_open=requisition.state == Requisition.State.SUBMITTED,
    )


def _decide_page(
    request: HttpRequest, *, document, decide, level: str, detail: str, is_open: bool
) -> HttpResponse:
    """One level's line-by-line decision form (street office or bureau): the same page,
    the same refusals, only the service and the wording differ."""
    lines = list(document.lines.all())
    error = None
    if request.method == "POST":
        try:
            decide(_posted_decisions(request, lines))
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(request, _("Decisions recorded."))
            return redirect(detail, document.pk)
    return render(
        request,
        "requisitions/decide.html",
        {
            "document": document,
            "lines": lines,
            "error": error,
            "posted": request.POST,
            "decisions": ApprovalStep.Decision.choices,
            "level": level,
            "back": (detail, document.pk),
            "open": is_open,
        },
        status=422 if error else 200,
    )


# --- street requests -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def request_create(request: HttpRequest) -> HttpResponse:
    """Consolidate the street's reviewed requisitions into one request to the bureau."""
    scope = scope_for(request.user)
    scope.require(STREET_ROLES)
    streets = list(scope.areas(STREET_ROLES).filter(kind=Area.Kind.STREET).order_by("path"))
    ready = (
        queries.requisitions_for(scope)
        .filter(
            state=Requisition.State.REVIEWED,
            community__parent__in=streets,
        )
        .prefetch_related("lines")
    )
    error = None
    if request.method == "POST":
        chosen = list(ready.filter(pk__in=request.POST.getlist("requisition")))
        street = chosen[0].community.parent if chosen else (streets[0] if streets else None)
        try:
            if street is None:
                raise InvalidInput(_("Choose at least one reviewed supply request."))
            street_request = services.street_request_create(
                street=street, requisitions=chosen, by=request.user, note=field(request, "note")
            )
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(
                request, _("Street request %(number)s created.") % {"number": street_request.number}
            )
            return redirect("requisitions:request_detail", street_request.pk)
    return render(
        request,
        "requisitions/request_form.html",
        {"ready": ready, "error": error},
        status=422 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _require_view(request)
    street_request = visible(queries.requests_for(scope), pk)
    lines = street_request.lines.prefetch_related(
        "source_rows__requisition_line__requisition__community", "steps"
    )
    return render(
        request,
        "requisitions/request_detail.html",
        {
            "street_request": street_request,
            "lines": lines,
            "allocations": street_request.allocations.select_related("supplier"),
            "can_submit": street_request.state == StreetRequest.State.DRAFT
            and reaches(scope, STREET_ROLES, street_request.street),
            "can_decide": street_request.state == StreetRequest.State.SUBMITTED
            and reaches(scope, BUREAU_ROLES, street_request.street),
            "can_allocate": street_request.state
            in (StreetRequest.State.APPROVED, StreetRequest.State.ALLOCATED)
            and reaches(scope, BUREAU_ROLES, street_request.street),
        },
    )


@require_POST
@login_required
@domain_errors
def request_submit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _require_view(request)
    street_request = visible(queries.requests_for(scope), pk)
    try:
        services.street_request_submit(request=street_request, by=request.user)
        messages.success(request, _("Sent to the commerce bureau."))
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    return redirect("requisitions:request_detail", street_request.pk)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The commerce bureau approves, reduces or rejects each line of a street request."""
    scope = _require_view(request)
    street_request = visible(queries.requests_for(scope), pk)
    if not reaches(scope, BUREAU_ROLES, street_request.street):
        raise NotAllowed()
    return _decide_page(
        request,
        document=street_request,
        decide=lambda decisions: services.street_request_decide(
            request=street_request, decisions=decisions, by=request.user
        ),
        level=_("commerce bureau"),
        detail="requisitions:request_detail",
        is_open=street_request.state == StreetRequest.State.SUBMITTED,
    )
