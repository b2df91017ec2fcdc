"""Deliveries and their bags: one bag per household, made from a round's orders.

A round's bags are made (or brought up to date) when its goods leave for the compound:
each placed order with something to supply gets one bag carrying the order's pickup
code; an order dropped or cancelled since has its waiting bag withdrawn. Free
distributions add their bags through `bags_add` with codes of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Area, Containment, Household, Resident
from baogong.core.errors import InvalidInput
from baogong.lastmile.models import Bag, Delivery
from baogong.orders.models import Order, Round

if TYPE_CHECKING:
    from baogong.accounts.models import User


def door_delivery_households(household_ids: Iterable[int]) -> set[int]:
    """Households that get their bag at the door: sealed (household or building), or with a
    resident who needs door delivery or is in a special group."""
    ids = list(household_ids)
    sealed = Household.objects.filter(pk__in=ids).filter(
        Q(containment=Containment.SEALED) | Q(building__containment=Containment.SEALED)
    )
    flagged = Resident.objects.filter(household_id__in=ids).filter(
        Q(needs_door_delivery=True) | Q(special_group=True)
    )
    return set(sealed.values_list("pk", flat=True)) | set(
        flagged.values_list("household_id", flat=True)
    )


@dataclass(frozen=True)
class NewBag:
    household_id: int
    building_id: int
    pickup_code: str
    packs: int = 1
    order_id: int | None = None


def bags_add(delivery: Delivery, bags: list[NewBag]) -> int:
    """Insert bags into `delivery` (skipping households that already have one), marking door
    delivery. Returns how many were written. Runs in the caller's transaction."""
    door = door_delivery_households(b.household_id for b in bags)
    rows = [
        Bag(
            delivery=delivery,
            household_id=b.household_id,
            building_id=b.building_id,
            order_id=b.order_id,
            distribution_id=delivery.distribution_id,
            packs=b.packs,
            pickup_code=b.pickup_code,
            door_delivery=b.household_id in door,
        )
        for b in bags
    ]
    before = Bag.objects.filter(delivery=delivery).count()
    Bag.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return Bag.objects.filter(delivery=delivery).count() - before


def _supplied_orders(round_: Round, compound_id: int):
    return (
        Order.objects.filter(round=round_, compound_id=compound_id, state=Order.State.PLACED)
        .filter(lines__quantity__gt=F("lines__cut_quantity"))
        .distinct()
    )


@transaction.atomic
def round_deliveries_sync(round_: Round) -> list[Delivery]:
    """Make or refresh the round's delivery for every compound it has bags for.

    Idempotent: run it at dispatch, again at the gate, as often as orders change.
    """
    compound_ids = sorted(
        set(
            Order.objects.filter(round=round_, state=Order.State.PLACED).values_list(
                "compound_id", flat=True
            )
        )
        | set(Delivery.objects.filter(round=round_).values_list("compound_id", flat=True))
    )
    deliveries = []
    for compound_id in compound_ids:
        delivery, _ = Delivery.objects.get_or_create(round=round_, compound_id=compound_id)
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        supplied = _supplied_orders(round_, compound_id)
        have = set(Bag.objects.filter(delivery=delivery).values_list("order_id", flat=True))
        bags_add(
            delivery,
            [
                NewBag(
                    household_id=o.household_id,
                    building_id=o.household.building_id,
                    pickup_code=o.pickup_code,
                    order_id=o.pk,
                )
                for o in supplied.exclude(pk__in=have).select_related("household")
            ],
        )
        # A waiting bag whose order no longer goes out is withdrawn, never deleted.
        Bag.objects.filter(delivery=delivery, state=Bag.State.WAITING).exclude(
            order__in=supplied
        ).update(state=Bag.State.VOID)
        deliveries.append(delivery)
    return deliveries


def deliveries_moved(deliveries: Iterable[Delivery], *, by: User | None) -> None:
    """After this transaction commits, each free distribution among `deliveries` follows
    their new states, once however many of its deliveries moved
    (distributions.services.distribution_follow_deliveries, in a transaction of its own)."""
    # distributions.services imports this module: imported when it is needed.
    from baogong.distributions.services import distribution_follow_deliveries

    for distribution_id in sorted({d.distribution_id for d in deliveries} - {None}):
        transaction.on_commit(lambda pk=distribution_id: distribution_follow_deliveries(pk, by=by))


def compounds_of(delivery_ids: Iterable[int]) -> list[Area]:
    return list(
        Area.objects.filter(deliveries__pk__in=list(delivery_ids)).distinct().order_by("path")
    )


def clean_note(note: str | None) -> str:
    """A note on a bag (gate check, follow-up), trimmed; refused past the field's 200."""
    note = (note or "").strip()
    if len(note) > 200:
        raise InvalidInput(_("The note is at most 200 characters."))
    return note


def lock_bag(bag: Bag) -> Bag:
    """The bag's row locked for this transaction (not its delivery's), with its compound."""
    return (
        Bag.objects.select_for_update(of=("self",))
        .select_related("delivery__compound")
        .get(pk=bag.pk)
    )
