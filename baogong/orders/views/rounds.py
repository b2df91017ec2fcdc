"""Rounds pages for staff, liaisons and suppliers: list, create, edit, act, watch, export.

Each view: parse → scoped lookup (queries.round_for over scope_for) → service → render.
Domain errors become HTTP answers in one place (`domain_errors`): NotFound → 404,
NotAllowed → 403; a refused change (InvalidInput, BadTransition) is shown on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import (
    BROWSE_ROLES,
    HOUSEHOLD_ROLES,
    PROXY_ROLES,
    ROUND_ROLES,
    Scope,
    scope_for,
)
from baogong.areas.models import Area
from baogong.core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors
from baogong.orders import exports, queries, round_services, services
from baogong.orders.models import Round
from baogong.orders.round_forms import (
    ActionForm,
    OfferFormSet,
    RoundForm,
    areas_for,
    offer_initial,
    suppliers_for,
)
from baogong.supply.models import Package, Supplier

LIST_PAGE_SIZE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTION_LABELS = {
    "open": gettext_lazy("Open for orders"),
    "close": gettext_lazy("Close now (cut off early)"),
    "confirm": gettext_lazy("Confirm the orders"),
    "dispatch": gettext_lazy("Mark as dispatched"),
    "deliver": gettext_lazy("Mark as delivered"),
    "settle": gettext_lazy("Mark as settled"),
    "cancel": gettext_lazy("Cancel the round"),
}
# Actions that ask for a reason (it goes to the liaisons and the supplier).
ACTIONS_WITH_REASON = frozenset({"close", "cancel"})


# --- access helpers -------------------------------------------------------------------


def visible_round(scope: Scope, pk: int) -> Round:
    """A round the user may see, else NotFound (an outsider learns nothing of it)."""
    round_ = queries.round_for(scope, pk)
    if round_ is None:
        raise NotFound()
    return round_


def reaches(scope: Scope, roles: frozenset[str], areas: Iterable[Area]) -> bool:
    """Whether a grant with one of `roles` meets one of `areas` (above or below it)."""
    if scope.superuser:
        return True
    paths = scope.paths_for(roles)
    return any(a.path.startswith(p) or p.startswith(a.path) for a in areas for p in paths)


def may_create_rounds(scope: Scope) -> bool:
    return scope.has_any(ROUND_ROLES) or bool(scope.supplier_ids)


def can_proxy(scope: Scope, round_: Round, areas: list[Area]) -> bool:
    """Whether the user may enter orders for households of this round now."""
    return reaches(scope, PROXY_ROLES, areas) and queries.round_is_open(round_)


def may_export(scope: Scope, round_: Round, areas: list[Area]) -> bool:
    return queries.sees_all_orders(scope, round_) or reaches(scope, HOUSEHOLD_ROLES, areas)


def round_actions(scope: Scope, user: Any, round_: Round, areas: list[Area]) -> list[dict]:
    """The transitions this user may make from the round's present state."""
    runs = services.may_run_round(user, supplier=round_.supplier, areas=areas)
    supplies = scope.superuser or round_.supplier_id in scope.supplier_ids
    return [
        {
            "action": action,
            "label": ACTION_LABELS[action],
            "reason": action in ACTIONS_WITH_REASON,
            "danger": action == "cancel",
        }
        for action, (sources, _target) in services.TRANSITIONS.items()
        if round_.state in sources
        and (supplies if action in services.SUPPLIER_ONLY_ACTIONS else runs)
    ]


# --- list -----------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def round_list(request: HttpRequest) -> HttpResponse:
    """Rounds the user sees, newest first, filtered by state."""
    scope = scope_for(request.user)
    if not (scope.has_any(BROWSE_ROLES) or scope.supplier_ids):
        raise NotAllowed()
    state = request.GET.get("state", "")
    rounds = queries.round_list_rows(queries.rounds_for(scope))
    if state in Round.State.values:
        rounds = rounds.filter(state=state)
    page = Paginator(rounds, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/round_list.html",
        {
            "page": page,
            "state": state,
            "states": Round.State.choices,
            "query": f"state={state}" if state else "",
            "can_create": may_create_rounds(scope),
        },
    )


# --- create and edit ------------------------------------------------------------------


def _catalog(supplier: Supplier | None, keep: Iterable[int] = ()) -> list[Package]:
    """The supplier's active packages, and any already offered (even if since retired)."""
    if supplier is None:
        return []
    packages = Package.objects.filter(Q(is_active=True) | Q(pk__in=list(keep)), supplier=supplier)
    return list(packages.prefetch_related("lines").order_by("category", "name"))


def _chosen_supplier(request: HttpRequest, suppliers: Any) -> Supplier | None:
    """The supplier picked in the form (POST) or the reload (GET), or the only choice."""
    raw = request.POST.get("supplier") or request.GET.get("supplier")
    if raw:
        try:
            return suppliers.get(pk=int(raw))
        except (Supplier.DoesNotExist, ValueError):
            return None
    only = list(suppliers[:2])
    return only[0] if len(only) == 1 else None


def _round_forms(
    request: HttpRequest, *, packages: list[Package], offers: list[Any] = (), **form_kwargs: Any
) -> tuple[RoundForm, Any]:
    """The round form and its offer rows, bound on POST."""
    data = request.POST if request.method == "POST" else None
    form = RoundForm(data, **form_kwargs)
    formset = OfferFormSet(
        data,
        initial=offer_initial(packages, offers),
        prefix="offers",
        packages={p.pk: p for p in packages},
    )
    return form, formset


def _saved(form: RoundForm, formset: Any, save: Callable[..., Round]) -> Round | None:
    """Hand valid forms to a service; put its refusal on the form."""
    if not (form.is_bound and form.is_valid() and formset.is_valid()):
        return None
    try:
        return save(**form.round_fields(), offers=formset.offer_specs())
    except (InvalidInput, round_services.RoundNotDraft) as error:
        form.add_error(None, error.message)
        return None


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def round_create(request: HttpRequest) -> HttpResponse:
    """A new draft round: supplier, areas, times, place, capacity and the packages offered."""
    scope = scope_for(request.user)
    if not may_create_rounds(scope):
        raise NotAllowed()
    suppliers = suppliers_for(scope)
    supplier = _chosen_supplier(request, suppliers)
    now = timezone.localtime().replace(second=0, microsecond=0)
    form, formset = _round_forms(
        request,
        packages=_catalog(supplier),
        suppliers=suppliers,
        areas=areas_for(scope, supplier) if supplier else Area.objects.none(),
        reload_url=reverse("orders:round_create"),
        initial={"supplier": supplier, "opens_at": now, "cutoff_at": now + dt.timedelta(days=1)},
    )
    round_ = _saved(
        form,
        formset,
        lambda **fields: services.round_create(
            supplier=form.cleaned_data["supplier"], by=request.user, **fields
        ),
    )
    if round_ is not None:
        messages.success(request, _("Draft round saved. Check it, then open it for orders."))
        return redirect("orders:round_detail", pk=round_.pk)
    return render(
        request,
        "orders/round_form.html",
        {
            "form": form,
            "formset": formset,
            "supplier": supplier,
            "has_suppliers": suppliers.exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft round (the supplier stays)."""
    scope = scope_for(request.user)
    round_ = visible_round(scope, pk)
    current = queries.round_area_list(round_)
    if not services.may_run_round(request.user, supplier=round_.supplier, areas=current):
        raise NotAllowed()
    if round_.state != Round.State.DRAFT:
        messages.error(request, _("Only a draft round can be changed."))
        return redirect("orders:round_detail", pk=round_.pk)
    offers = list(round_.offers.select_related("package").order_by("position", "pk"))
    areas = Area.objects.filter(
        Q(pk__in=areas_for(scope, round_.supplier).values("pk")) | Q(pk__in=[a.pk for a in current])
    )
    form, formset = _round_forms(
        request,
        packages=_catalog(round_.supplier, keep=[o.package_id for o in offers]),
        offers=offers,
        suppliers=None,
        areas=areas.select_related("parent").order_by("path"),
        initial=RoundForm.initial_for(round_, current),
    )
    if _saved(
        form,
        formset,
        lambda **fields: round_services.round_update(round_=round_, by=request.user, **fields),
    ):
        messages.success(request, _("Round saved."))
        return redirect("orders:round_detail", pk=round_.pk)
    return render(
        request,
        "orders/round_form.html",
        {
            "form": form,
            "formset": formset,
            "round": round_,
            "supplier": round_.supplier,
            "has_suppliers": True,
        },
    )


# --- transitions ----------------------------------------------------------------------


@require_POST
@login_required
@domain_errors
def round_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Open, close, cancel, confirm… through round_transition; a refusal is shown."""
    round_ = visible_round(scope_for(request.user), pk)
    if action not in services.TRANSITIONS:
        raise NotFound()
    form = ActionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        round_ = services.round_transition(
            round_=round_, action=action, by=request.user, reason=reason
        )
    except NotAllowed:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The round is now %(state)s.") % {"state": round_.get_state_display()}
        )
    return redirect("orders:round_detail", pk=pk)


# --- the liaison's round page -----------------------------------------------------------


def _split(actions: list[dict]) -> dict[str, list[dict]]:
    """Steps forward are buttons at the top; closing and cancelling ask for a reason below."""
    return {
        "actions": actions,
        "quick_actions": [a for a in actions if not a["reason"]],
        "confirm_actions": [a for a in actions if a["reason"]],
    }


@require_GET
@login_required
@domain_errors
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Live counts, who has not ordered yet (to chase), the latest orders, the actions.

    `?part=counts` is the 10-second poll of the counts: 204 when nothing changed (the
    client sends the version it shows), else the counts partial. `?part=chase&building=`
    is one building's households to chase, loaded when its list is opened; `?building=`
    opens that list in the page itself (without JavaScript).
    """
    scope = scope_for(request.user)
    round_ = visible_round(scope, pk)
    areas = queries.round_area_list(round_)
    compound_ids = queries.round_compound_ids(round_)
    building = _int(request.GET.get("building"))
    if request.GET.get("part") == "chase":
        return render(
            request,
            "orders/round_chase_rows.html",
            {
                "round": round_,
                "can_proxy": can_proxy(scope, round_, areas),
                "households": queries.round_not_ordered(scope, round_, compound_ids, building)
                if building
                else [],
            },
        )
    counts = queries.round_counts(round_, compound_ids)
    context = {"round": round_, "counts": counts, "areas": areas}
    if request.GET.get("part") == "counts":
        if request.GET.get("v") == counts.version:
            return HttpResponse(status=204)
        return render(request, "orders/round_counts.html", context)
    chase = queries.round_chase_buildings(scope, round_, compound_ids)
    for group in chase:
        if group.building_id == building:
            group.households = queries.round_not_ordered(scope, round_, compound_ids, building)
    return render(
        request,
        "orders/round_detail.html",
        {
            **context,
            "chase": chase,
            "recent": queries.round_recent_orders(scope, round_, compound_ids),
            **_split(round_actions(scope, request.user, round_, areas)),
            "can_edit": round_.state == Round.State.DRAFT
            and services.may_run_round(request.user, supplier=round_.supplier, areas=areas),
            "can_proxy": can_proxy(scope, round_, areas),
            "can_export": may_export(scope, round_, areas),
            "is_open_now": queries.round_is_open(round_),
            "sees_orders": queries.sees_all_orders(scope, round_)
            or reaches(scope, HOUSEHOLD_ROLES, areas),
        },
    )


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@require_GET
@login_required
@domain_errors
def round_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's orders as .xlsx: masked phones for suppliers, full for staff who call."""
    scope = scope_for(request.user)
    round_ = visible_round(scope, pk)
    if not may_export(scope, round_, queries.round_area_list(round_)):
        raise NotAllowed()
    orders, quantities = queries.round_export_rows(
        scope, round_, queries.round_compound_ids(round_)
    )
    offers = list(round_.offers.order_by("position", "pk"))
    content = exports.round_orders_workbook(
        round_, offers, orders, quantities, full_phone=scope.sees_full_phone
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="round-{round_.pk}-orders.xlsx"'
    return response
