"""Free distribution pages: list, create/edit, detail, plan, commit, documents.

Every page checks the user's planning scope (`access`): a distribution organised outside
it answers 404, never its data.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area, Household
from baogong.core.errors import Conflict, InvalidInput
from baogong.core.http import domain_errors
from baogong.distributions import documents, planning, services
from baogong.distributions.access import (
    PLAN_ROLES,
    distribution_for,
    distributions_for,
    require_planner,
)
from baogong.distributions.forms import DistributionForm, initial_from, initial_from_allocation
from baogong.distributions.models import Allocation, Distribution, DistributionDocument
from baogong.lastmile.models import Bag, Delivery
from baogong.requisitions.queries import allocations_for

PAGE_SIZE = 25
# A target list offers single buildings only when the user's area is small enough to list them.
MAX_BUILDING_CHOICES = 300


def _target_choices(scope):
    areas = scope.areas(PLAN_ROLES)
    kinds = [Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND]
    if areas.filter(kind=Area.Kind.BUILDING).count() <= MAX_BUILDING_CHOICES:
        kinds.append(Area.Kind.BUILDING)
    return areas.filter(kind__in=kinds).order_by("path")


def _earlier(scope, exclude=None):
    """Committed distributions with a waiting list the user may serve first."""
    qs = distributions_for(scope).filter(allocations__state=Allocation.State.WAITING).distinct()
    return qs.exclude(pk=exclude.pk) if exclude else qs


@login_required
@domain_errors
def distribution_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    require_planner(scope)
    rows = (
        distributions_for(scope)
        .order_by("-created_at", "-pk")
        .annotate(
            households=Count("allocations", distinct=True),
            waiting=Count(
                "allocations",
                filter=Q(allocations__state=Allocation.State.WAITING),
                distinct=True,
            ),
        )
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "distributions/list.html", {"page": page})


def _form_page(request, scope, form, *, distribution=None, allocation_order=None):
    return render(
        request,
        "distributions/form.html",
        {"form": form, "distribution": distribution, "allocation_order": allocation_order},
        status=400 if form.is_bound and form.errors else 200,
    )


def _save(request, scope, form, *, distribution=None, allocation_order=None) -> Distribution:
    spec = form.spec(allocation_order=allocation_order)
    services.check_targets_allowed(spec.targets, scope.areas(PLAN_ROLES))
    if distribution is None:
        return services.distribution_create(spec=spec, by=request.user)
    return services.distribution_update(distribution=distribution, spec=spec, by=request.user)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def distribution_create(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    require_planner(scope)
    allocation_order = None
    source = request.POST.get("allocation") or request.GET.get("allocation")
    if source:
        allocation_order = allocations_for(scope).filter(pk=source).first()
        if allocation_order is None:
            raise Http404
    kwargs = {"areas": _target_choices(scope), "earlier": _earlier(scope)}
    if request.method == "POST":
        form = DistributionForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                distribution = _save(request, scope, form, allocation_order=allocation_order)
            except InvalidInput as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Distribution created. Check the plan."))
                return redirect("distributions:plan", pk=distribution.pk)
    else:
        initial = initial_from_allocation(allocation_order) if allocation_order else {}
        form = DistributionForm(initial=initial, **kwargs)
    return _form_page(request, scope, form, allocation_order=allocation_order)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def distribution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    if distribution.state != Distribution.State.DRAFT:
        messages.error(
            request, _("The bags of this distribution are made: it can no longer be changed.")
        )
        return redirect("distributions:detail", pk=pk)
    kwargs = {"areas": _target_choices(scope), "earlier": _earlier(scope, distribution)}
    if request.method == "POST":
        form = DistributionForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                _save(
                    request,
                    scope,
                    form,
                    distribution=distribution,
                    allocation_order=distribution.allocation_order,
                )
            except InvalidInput as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Saved. Check the plan."))
                return redirect("distributions:plan", pk=pk)
    else:
        form = DistributionForm(initial=initial_from(distribution), **kwargs)
    return _form_page(
        request,
        scope,
        form,
        distribution=distribution,
        allocation_order=distribution.allocation_order,
    )


@login_required
@domain_errors
def distribution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    deliveries = (
        Delivery.objects.filter(distribution=distribution)
        .select_related("compound")
        .annotate(
            bag_count=Count("bags", filter=~Q(bags__state=Bag.State.VOID)),
            packs=Sum("bags__packs", filter=~Q(bags__state=Bag.State.VOID)),
            handed=Count(
                "bags", filter=Q(bags__state__in=[Bag.State.COLLECTED, Bag.State.DELIVERED])
            ),
        )
        .order_by("compound__path")
    )
    counts = dict(distribution.allocations.values_list("state").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "distributions/detail.html",
        {
            "distribution": distribution,
            "packages": distribution.packages.order_by("position", "pk"),
            "bands": distribution.bands.all(),
            "targets": distribution.targets.order_by("path"),
            "deliveries": deliveries,
            "bagged": counts.get(Allocation.State.BAGGED, 0),
            "waiting": counts.get(Allocation.State.WAITING, 0),
            "is_draft": distribution.state == Distribution.State.DRAFT,
        },
    )


def _unservable_rows(plan: planning.Plan) -> list[dict]:
    reasons = planning.unservable_reasons()
    ids = [u.household_id for u in plan.unservable]
    addresses = {
        h.pk: h.address for h in Household.objects.filter(pk__in=ids).select_related("building")
    }
    return [
        {
            "household_id": u.household_id,
            "compound": plan.names.get(u.compound_id, ""),
            "address": addresses.get(u.household_id, ""),
            "reason": reasons[u.reason],
        }
        for u in plan.unservable
    ]


@login_required
@domain_errors
def distribution_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Before packing: who is covered, packs needed, who can't be served, who is left out."""
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    draft = distribution.state == Distribution.State.DRAFT
    plan = (
        planning.distribution_plan(distribution) if draft else planning.committed_plan(distribution)
    )
    packages = {p.pk: p for p in distribution.packages.all()}
    needed, allocated = plan.packs_needed(), plan.packs_allocated()
    package_rows = [
        {
            "package": package,
            "needed": needed.get(package.pk, 0),
            "allocated": allocated.get(package.pk, 0),
            "available": package.quantity_available,
        }
        for package in sorted(packages.values(), key=lambda p: (p.position, p.pk))
    ]
    shortfalls = [{"shortfall": s, "package": packages.get(s.package_id)} for s in plan.shortfalls]
    compounds = planning.per_compound(plan)
    for compound in compounds:
        compound.package_packs = [
            (packages[k], v) for k, v in sorted(compound.packs.items()) if k in packages
        ]
    return render(
        request,
        "distributions/plan.html",
        {
            "distribution": distribution,
            "draft": draft,
            "households": len(plan.lines),
            "served": len(plan.served),
            "left_out": len(plan.left_out),
            "package_rows": package_rows,
            "shortfalls": shortfalls,
            "compounds": compounds,
            "unservable": _unservable_rows(plan),
        },
    )


@login_required
@domain_errors
@require_POST
def distribution_commit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    try:
        result = services.distribution_commit(distribution=distribution, by=request.user)
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
        return redirect("distributions:plan", pk=pk)
    messages.success(
        request,
        _(
            "Bags made: %(bags)s in %(deliveries)s compounds; %(waiting)s households on the "
            "waiting list."
        )
        % {"bags": result.bags, "deliveries": result.deliveries, "waiting": result.waiting},
    )
    return redirect("distributions:documents", pk=pk)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def distribution_documents(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    if request.method == "POST":
        if distribution.state == Distribution.State.DRAFT:
            messages.error(request, _("Make the bags first (commit the plan)."))
        else:
            documents.documents_request(distribution, by=request.user)
            messages.success(request, _("The documents are being made."))
        return redirect("distributions:documents", pk=pk)
    docs = documents.documents_of(distribution)
    busy = any(
        d.state in (DistributionDocument.State.QUEUED, DistributionDocument.State.RUNNING)
        for d in docs
    )
    return render(
        request,
        "distributions/detail_documents.html",
        {"distribution": distribution, "documents": docs, "busy": busy},
    )


@login_required
@domain_errors
def distribution_document(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    scope = scope_for(request.user)
    distribution = distribution_for(scope, pk)
    document = DistributionDocument.objects.filter(
        distribution=distribution, kind=kind, state=DistributionDocument.State.DONE
    ).first()
    if document is None or not document.file:
        raise Http404
    name = f"distribution-{distribution.pk}-{kind}.pdf"
    return FileResponse(document.file.open("rb"), filename=name, content_type="application/pdf")


urlpatterns = [
    path("", distribution_list, name="list"),
    path("new/", distribution_create, name="create"),
    path("<int:pk>/", distribution_detail, name="detail"),
    path("<int:pk>/edit/", distribution_edit, name="edit"),
    path("<int:pk>/plan/", distribution_plan, name="plan"),
    path("<int:pk>/commit/", distribution_commit, name="commit"),
    path("<int:pk>/documents/", distribution_documents, name="documents"),
    path("<int:pk>/documents/<slug:kind>/", distribution_document, name="document"),
]
