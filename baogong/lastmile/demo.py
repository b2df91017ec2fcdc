"""Demo data for the last mile: the demo liaison's compound in the middle of its pickup.

Last week's round (武商保供团购第2期) reached the liaison's compound: the gate receipt is
finished, slots are proposed building by building and households were told; the first
building has finished (all but one household collected, that bag waits), the second is
being called now and some of its households have collected.

Idempotent: once a building of that delivery has been called nothing is done again.
Everything goes through the services, as the liaison would do it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area
from baogong.lastmile import receipt, slots
from baogong.lastmile.bags import round_deliveries_sync
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover, PickupSlot
from baogong.orders.models import Round, RoundArea

ROUND_TITLE = "武商保供团购第2期"
# How long ago the second building was called, so the calling screen shows a live slot.
CALLED_AGO = dt.timedelta(minutes=4)
COLLECTED_IN_SECOND = 2


def demo_pickup(district: Area, *, liaison_phone: str) -> Delivery | None:
    """Bring the liaison's compound delivery of the closed demo round to mid-pickup."""
    liaison = User.objects.filter(phone=liaison_phone).first()
    grant = RoleGrant.objects.filter(
        user=liaison, role=Role.LIAISON, area__path__startswith=district.path
    ).first()
    if liaison is None or grant is None:
        return None
    round_ = (
        Round.objects.filter(
            title=ROUND_TITLE,
            pk__in=RoundArea.objects.filter(area=grant.area).values("round"),
        )
        .order_by("pk")
        .first()
    )
    if round_ is None:
        return None
    with transaction.atomic():
        delivery = next(
            (d for d in round_deliveries_sync(round_) if d.compound_id == grant.area_id), None
        )
        if delivery is None or delivery.slots.exclude(state=PickupSlot.State.PLANNED).exists():
            return delivery
        _receive(delivery, liaison)
        _pickup(delivery, liaison, now=timezone.now().replace(second=0, microsecond=0))
    return delivery


def _receive(delivery: Delivery, liaison: User) -> None:
    """Every bag arrived: the liaison ticks them all received and finishes the receipt."""
    delivery.refresh_from_db()
    if delivery.state in (Delivery.State.PICKUP, Delivery.State.DONE):
        return
    receipt.receipt_start(delivery=delivery, by=liaison)
    waiting = delivery.bags.filter(
        state=Bag.State.WAITING, gate_state=Bag.GateState.EXPECTED
    ).values_list("pk", flat=True)
    receipt.bags_check(
        delivery=delivery,
        bag_ids=list(waiting),
        gate_state=Bag.GateState.RECEIVED,
        by=liaison,
    )
    receipt.receipt_finish(delivery=delivery, by=liaison)


def _pickup(delivery: Delivery, liaison: User, *, now: dt.datetime) -> None:
    proposed = slots.slots_propose(delivery=delivery, start_at=now, by=liaison)
    if len(proposed) < 2:
        return
    # The liaison moves the biggest of the other buildings up to second place, so the
    # building being called has people still to come.
    biggest = max(proposed[1:], key=lambda s: (s.households, -s.position))
    for _ in range(biggest.position - 2):
        slots.slot_move(slot=biggest, direction="up", by=liaison)
    first = delivery.slots.order_by("position").first()
    length = first.ends_at - first.starts_at
    # Shift the plan back so the first building finished a few minutes ago.
    first_start = now - CALLED_AGO - length
    slots.slot_reschedule(
        slot=first,
        starts_at=first_start,
        ends_at=first_start + length,
        later_follow=True,
        by=liaison,
    )
    slots.slots_notify(delivery=delivery, by=liaison, now=first_start - dt.timedelta(hours=1))
    called = slots.slot_call_next(delivery=delivery, by=liaison, now=first_start)
    # One household of the first building did not come down: its bag waits.
    for bag in list(_pickup_bags(delivery, called.building_id))[:-1]:
        bag_hand_over(bag=bag, method=Handover.Method.CODE, by=liaison, now=first_start)
    called = slots.slot_call_next(delivery=delivery, by=liaison, now=now - CALLED_AGO)
    waiting = list(_pickup_bags(delivery, called.building_id))
    for bag in waiting[: min(COLLECTED_IN_SECOND, len(waiting) - 1)]:
        bag_hand_over(bag=bag, method=Handover.Method.CODE, by=liaison, now=now)


def _pickup_bags(delivery: Delivery, building_id: int):
    return (
        slots.slot_bags(delivery)
        .filter(building_id=building_id, state=Bag.State.WAITING)
        .order_by("household__unit", "household__room")
    )
