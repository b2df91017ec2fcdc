"""Deliveries, gate receipt, handover and follow-up pages.

Each view: scoped lookup (`lastmile.queries`) → service → render. A delivery outside
the user's scope is a 404; refusals of the services are shown on the page
(role=alert). The code forms post with htmx and get back only their result.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.queries import natural_key
from baogong.core.errors import DomainError, NotAllowed, NotFound
from baogong.core.http import domain_errors, is_htmx
from baogong.core.phones import mask_phone
from baogong.lastmile import followup, handover, receipt
from baogong.lastmile.bags import round_deliveries_sync
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.lastmile.queries import (
    HANDOVER_ROLES,
    RUN_ROLES,
    bag_counts,
    deliveries_for,
    delivery_for,
    runs_delivery,
    visible_bags,
)
from baogong.orders.models import Round
from baogong.orders.services import may_run_round, round_areas

# Rounds whose goods are ready to go (or gone): their bags can be made.
SYNC_STATES = frozenset({Round.State.CONFIRMED, Round.State.DISPATCHED})


def _buildings(bags) -> list[tuple[str, list[Bag]]]:
    """Bags grouped by building, buildings in natural order (3号楼 before 10号楼)."""
    groups: dict[str, list[Bag]] = {}
    for bag in bags.order_by("household__unit", "household__room"):
        groups.setdefault(bag.building.name, []).append(bag)
    return sorted(groups.items(), key=lambda item: natural_key(item[0]))


# --- deliveries ------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def delivery_list(request: HttpRequest) -> HttpResponse:
    """The deliveries in the user's scope, newest first: a liaison's entry to the last mile."""
    scope = scope_for(request.user)
    if not scope.has_any(HANDOVER_ROLES):
        raise NotAllowed()
    deliveries = deliveries_for(scope).order_by("-created_at", "-pk")
    page = Paginator(deliveries, 30).get_page(request.GET.get("page"))
    rows = [(d, bag_counts(d.bags.all())) for d in page.object_list]
    return render(request, "lastmile/delivery_list.html", {"page": page, "rows": rows})


@require_POST
@login_required
@domain_errors
def round_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """Make or refresh a confirmed or dispatched round's deliveries and bags."""
    round_ = Round.objects.select_related("supplier").filter(pk=pk).first()
    if round_ is None:
        raise NotFound()
    if not may_run_round(request.user, supplier=round_.supplier, areas=round_areas(round_)):
        raise NotFound()
    if round_.state not in SYNC_STATES:
        messages.error(request, _("Bags are made once the round is confirmed."))
        return redirect("orders:round_detail", pk=round_.pk)
    made = round_deliveries_sync(round_)
    messages.success(
        request, _("%(count)s compound deliveries are up to date.") % {"count": len(made)}
    )
    return redirect("lastmile:delivery_list")


@require_GET
@login_required
@domain_errors
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk)
    bags = visible_bags(request.user, delivery)
    context = {
        "delivery": delivery,
        "counts": bag_counts(bags),
        "runs": runs_delivery(request.user, delivery),
        "receipt": getattr(delivery, "gate_receipt", None),
    }
    return render(request, "lastmile/delivery_detail.html", context)


# --- gate receipt ----------------------------------------------------------------------


def _receipt_context(request: HttpRequest, delivery: Delivery, **extra) -> dict:
    bags = delivery.bags.select_related("household", "building")
    live = bags.exclude(state=Bag.State.VOID, gate_state=Bag.GateState.EXPECTED)
    return {
        "delivery": delivery,
        "counts": bag_counts(delivery.bags.all()),
        "buildings": _buildings(live),
        "gate_states": Bag.GateState.choices[1:],
        "summary": receipt.receipt_summary(delivery)
        if delivery.state in receipt.PAST_RECEIPT
        else None,
        **extra,
    }


@require_GET
@login_required
@domain_errors
def receipt_page(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    return render(request, "lastmile/receipt.html", _receipt_context(request, delivery))


@require_POST
@login_required
@domain_errors
def receipt_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """start · check (a code, with a gate state and note) · tick (a building's list) · finish."""
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    if action not in ("start", "check", "tick", "finish"):
        raise NotFound()
    result = None
    try:
        if action == "start":
            receipt.receipt_start(delivery=delivery, by=request.user)
        elif action == "check":
            bag = handover.bag_by_code(delivery=delivery, code=request.POST.get("code", ""))
            state = request.POST.get("gate_state") or Bag.GateState.RECEIVED
            bag = receipt.bag_check(
                bag=bag, gate_state=state, by=request.user, note=request.POST.get("note", "")
            )
            result = {"ok": True, "bag": bag}
        elif action == "tick":
            ids = [int(v) for v in request.POST.getlist("bag") if v.isdigit()]
            count = receipt.bags_check(
                delivery=delivery,
                bag_ids=ids,
                gate_state=request.POST.get("gate_state") or Bag.GateState.RECEIVED,
                by=request.user,
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("%(count)s bags marked.") % {"count": count})
        else:
            receipt.receipt_finish(
                delivery=delivery, by=request.user, credit=request.POST.get("credit") == "1"
            )
    except DomainError as error:
        if action != "check" or not is_htmx(request):
            messages.error(request, error.message)
            return redirect("lastmile:receipt", pk=delivery.pk)
        result = {"ok": False, "error": error.message}
    if action == "check" and is_htmx(request):
        delivery.refresh_from_db()
        context = _receipt_context(request, delivery, result=result, oob=True)
        return render(request, "lastmile/receipt_result.html", context)
    return redirect("lastmile:receipt", pk=delivery.pk)


# --- handover --------------------------------------------------------------------------


def _hand_over(request: HttpRequest, delivery: Delivery) -> dict:
    """Find the bag (code, or building + room + phone digits) and hand it over."""
    post = request.POST
    received_by = post.get("received_by", "")
    if post.get("by") == "room":
        building = post.get("building", "")
        bag = handover.bag_by_room_phone(
            delivery=delivery,
            building_id=int(building) if building.isdigit() else 0,
            room=post.get("room", ""),
            unit=post.get("unit", ""),
            last4=post.get("last4", ""),
        )
        method = Handover.Method.ROOM_PHONE
    else:
        bag = handover.bag_by_code(delivery=delivery, code=post.get("code", ""))
        method = Handover.Method.SCANNED if post.get("scanned") else Handover.Method.CODE
    done = handover.bag_hand_over(bag=bag, method=method, by=request.user, received_by=received_by)
    return {"ok": True, "bag": bag, "handover": done}


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def handover_page(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk)
    result = None
    if request.method == "POST":
        try:
            result = _hand_over(request, delivery)
        except NotAllowed:
            result = {"ok": False, "error": _("This bag is not one you may hand over.")}
        except DomainError as error:
            result = {"ok": False, "error": error.message}
    bags = visible_bags(request.user, delivery)
    if is_htmx(request):
        # The banner, and the counts above it swapped out of band.
        context = {"result": result, "oob_counts": bag_counts(bags)}
        return render(request, "lastmile/handover_result.html", context)
    buildings = sorted(
        {(b.building_id, b.building.name) for b in bags}, key=lambda item: natural_key(item[1])
    )
    context = {
        "delivery": delivery,
        "counts": bag_counts(bags),
        "buildings": buildings,
        "result": result,
        "ready": delivery.state in receipt.PAST_RECEIPT
        or delivery.state == Delivery.State.RECEIVING,
    }
    return render(request, "lastmile/handover.html", context)


# --- follow-up -------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def followup_page(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    scope = scope_for(request.user)
    rows = []
    for bag in followup.followup_bags(delivery):
        household = bag.household
        phone = household.phone if scope.sees_full_phone(household) else mask_phone(household.phone)
        rows.append({"bag": bag, "phone": phone})
    # Walking order: buildings in natural order (3号楼 before 10号楼), then unit and room.
    rows.sort(
        key=lambda r: (
            natural_key(r["bag"].building.name),
            natural_key(r["bag"].household.unit),
            natural_key(r["bag"].household.room),
        )
    )
    context = {
        "delivery": delivery,
        "rows": rows,
        "actions": Bag.FollowUp.choices,
        "counts": bag_counts(delivery.bags.all()),
    }
    return render(request, "lastmile/followup.html", context)


@require_POST
@login_required
@domain_errors
def followup_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the follow-up of one bag (pk = bag)."""
    bag = Bag.objects.select_related("delivery").filter(pk=pk).first()
    if bag is None:
        raise NotFound()
    delivery = delivery_for(request.user, bag.delivery_id, RUN_ROLES)
    try:
        followup.bag_follow_up(
            bag=bag,
            action=request.POST.get("action", ""),
            note=request.POST.get("note", ""),
            by=request.user,
        )
        messages.success(request, _("Follow-up of bag %(code)s saved.") % {"code": bag.pickup_code})
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lastmile:followup", pk=delivery.pk)


@require_POST
@login_required
@domain_errors
def pickup_close(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    try:
        count = followup.delivery_pickup_close(delivery=delivery, by=request.user)
        messages.success(
            request, _("Pickup closed: %(count)s bags on the follow-up list.") % {"count": count}
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("lastmile:delivery", pk=delivery.pk)
    return redirect("lastmile:followup", pk=delivery.pk)


urlpatterns = [
    path("deliveries/", delivery_list, name="delivery_list"),
    path("rounds/<int:pk>/deliveries/", round_deliveries, name="round_deliveries"),
    path("deliveries/<int:pk>/", delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/receipt/", receipt_page, name="receipt"),
    path("deliveries/<int:pk>/receipt/<str:action>/", receipt_action, name="receipt_action"),
    path("deliveries/<int:pk>/handover/", handover_page, name="handover"),
    path("deliveries/<int:pk>/followup/", followup_page, name="followup"),
    path("deliveries/<int:pk>/close/", pickup_close, name="pickup_close"),
    path("bags/<int:pk>/followup/", followup_action, name="followup_action"),
]
