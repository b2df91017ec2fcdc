"""Gate receipt: the liaison checks a delivery's bags against the compound manifest.

Each bag is marked received, missing, damaged or wrong (scanned, typed or ticked).
Finishing settles the shortfall once: a bag that did not arrive whole is withdrawn,
its order's lines are cut (amount due follows: Σ unit price × (quantity − cut)), the
money received is refunded or kept as credit through the payments service, the
household is told and the supplier gets one notice. A free distribution's bag costs
nobody anything: it is only recorded. Finishing also gives the door-delivery bags that
arrived to the building volunteers, so no sealed or special-needs household waits for
someone to remember a button. Counts reconcile:
expected = received + missing + damaged + wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role, RoleGrant
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile.bags import clean_note, deliveries_moved, lock_bag, round_deliveries_sync
from baogong.lastmile.doors import door_tasks_assign
from baogong.lastmile.models import Bag, Delivery, GateReceipt
from baogong.lastmile.queries import BagCounts, bag_counts, require_run
from baogong.notify import services as notify_services
from baogong.orders.models import Order, OrderLine, Round
from baogong.payments import services as payment_services
from baogong.payments.models import Refund
from baogong.payments.money import ZERO
from baogong.payments.queries import order_money

if TYPE_CHECKING:
    from baogong.accounts.models import User

SHORT = frozenset({Bag.GateState.MISSING, Bag.GateState.DAMAGED, Bag.GateState.WRONG})
RECEIVABLE = frozenset({Delivery.State.PREPARING, Delivery.State.ON_THE_WAY})
PAST_RECEIPT = frozenset({Delivery.State.PICKUP, Delivery.State.DONE})


@dataclass
class Shortfall:
    bag: Bag
    refunded: Decimal | None = None  # None: nothing was paid (or a free bag)


@dataclass
class ReceiptSummary:
    delivery: Delivery
    counts: BagCounts
    shortfalls: list[Shortfall] = field(default_factory=list)

    @property
    def refunded(self) -> Decimal:
        return sum((s.refunded or ZERO for s in self.shortfalls), ZERO)

    @property
    def reconciles(self) -> bool:
        c = self.counts
        return c.expected == c.received + c.missing + c.damaged + c.wrong


def _locked(delivery: Delivery) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("compound", "round", "distribution")
        .get(pk=delivery.pk)
    )


def _save(obj, *, by: User | None, reason: str, **kwargs) -> None:
    obj._history_user = by
    obj._change_reason = reason
    obj.save(**kwargs)


@transaction.atomic
def receipt_start(
    *, delivery: Delivery, by: User | None, now: dt.datetime | None = None
) -> GateReceipt:
    """Start checking bags at the gate (again: returns the receipt already started)."""
    require_run(by, delivery)
    delivery = _locked(delivery)
    existing = GateReceipt.objects.filter(delivery=delivery).first()
    if existing is not None:
        return existing
    if delivery.state not in RECEIVABLE:
        raise Conflict(
            _("A delivery that is %(state)s cannot be received."),
            state=delivery.get_state_display(),
        )
    if delivery.round_id:
        # Orders dropped or cancelled since the bags were made leave the manifest now.
        round_deliveries_sync(delivery.round)
    receipt = GateReceipt(delivery=delivery, started_by=by, started_at=now or timezone.now())
    _save(receipt, by=by, reason="gate receipt started")
    delivery.state = Delivery.State.RECEIVING
    _save(delivery, by=by, reason="gate receipt started", update_fields=["state", "updated_at"])
    deliveries_moved([delivery], by=by)
    return receipt


def _checkable(delivery: Delivery) -> None:
    if delivery.state != Delivery.State.RECEIVING:
        raise Conflict(
            _("Bags are checked while the delivery is being received; it is %(state)s."),
            state=delivery.get_state_display(),
        )


@transaction.atomic
def bag_check(
    *, bag: Bag, gate_state: str, by: User | None, note: str = "", now: dt.datetime | None = None
) -> Bag:
    """Mark one bag at the gate. Marking it the same way again changes nothing."""
    if gate_state not in Bag.GateState.values:
        raise InvalidInput(_("Choose received, missing, damaged or wrong."))
    note = clean_note(note)
    bag = lock_bag(bag)
    require_run(by, bag.delivery)
    _checkable(bag.delivery)
    if bag.state == Bag.State.VOID:
        raise InvalidInput(
            _("Bag %(code)s was withdrawn from this delivery: set it aside."), code=bag.pickup_code
        )
    if bag.state != Bag.State.WAITING:
        raise Conflict(_("Bag %(code)s was already handed over."), code=bag.pickup_code)
    if bag.gate_state == gate_state and bag.gate_note == note:
        return bag
    bag.gate_state, bag.gate_note = gate_state, note
    bag.checked_by, bag.checked_at = by, now or timezone.now()
    _save(
        bag,
        by=by,
        reason=f"gate: {gate_state}",
        update_fields=["gate_state", "gate_note", "checked_by", "checked_at", "updated_at"],
    )
    return bag


@transaction.atomic
def bags_check(
    *,
    delivery: Delivery,
    bag_ids: list[int],
    gate_state: str,
    by: User | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Mark the ticked bags of a list (a building's) in one go. Returns how many changed.

    Only bags nobody has checked yet change: a list ticked on a page loaded before a bag
    was scanned or marked missing must not overwrite that record (one bag at a time does).
    """
    require_run(by, delivery)
    _checkable(_locked(delivery))
    bags = Bag.objects.filter(
        delivery=delivery,
        pk__in=bag_ids,
        state=Bag.State.WAITING,
        gate_state=Bag.GateState.EXPECTED,
    )
    changed = 0
    for bag in bags.order_by("pk"):
        before = (bag.gate_state, bag.gate_note)
        after = bag_check(bag=bag, gate_state=gate_state, by=by, note=note, now=now)
        changed += (after.gate_state, after.gate_note) != before
    return changed


def receipt_summary(delivery: Delivery) -> ReceiptSummary:
    bags = delivery.bags.select_related("household", "building", "order")
    short = bags.filter(gate_state__in=SHORT).order_by("building__path", "household__room")
    shortfalls = []
    for bag in short:
        refunds = (
            Refund.objects.filter(order_id=bag.order_id, reason=Refund.Reason.NOT_DELIVERED)
            if bag.order_id
            else Refund.objects.none()
        )
        total = sum((r.amount for r in refunds), ZERO)
        shortfalls.append(Shortfall(bag=bag, refunded=total or None))
    return ReceiptSummary(
        delivery=delivery, counts=bag_counts(delivery.bags.all()), shortfalls=shortfalls
    )


@transaction.atomic
def receipt_finish(
    *,
    delivery: Delivery,
    by: User | None,
    credit: bool = False,
    now: dt.datetime | None = None,
) -> ReceiptSummary:
    """Finish the gate receipt: settle the shortfall, open the pickup and assign the door
    tasks. Twice is once.

    `credit` keeps the money of short bags as credit notes instead of refunds.
    """
    require_run(by, delivery)
    delivery = _locked(delivery)
    if delivery.state in PAST_RECEIPT:
        return receipt_summary(delivery)
    _checkable(delivery)
    unchecked = delivery.bags.filter(state=Bag.State.WAITING, gate_state=Bag.GateState.EXPECTED)
    if unchecked.exists():
        raise Conflict(
            _("%(count)s bags are not checked yet: mark them received or missing first."),
            count=unchecked.count(),
        )
    now = now or timezone.now()
    short = list(
        delivery.bags.filter(gate_state__in=SHORT)
        .exclude(state=Bag.State.VOID)
        .select_related("household", "order")
        .order_by("pk")
    )
    kind = Refund.Kind.CREDIT_NOTE if credit else Refund.Kind.REFUND
    for bag in short:
        _settle_short_bag(bag, delivery=delivery, by=by, kind=kind)
    if short and delivery.round_id:
        _tell_supplier(delivery, short)
    receipt = GateReceipt.objects.select_for_update().get(delivery=delivery)
    receipt.finished_at = now
    _save(
        receipt, by=by, reason="gate receipt finished", update_fields=["finished_at", "updated_at"]
    )
    delivery.state = Delivery.State.PICKUP
    _save(delivery, by=by, reason="gate receipt finished", update_fields=["state", "updated_at"])
    door_tasks_assign(delivery=delivery, by=by)
    deliveries_moved([delivery], by=by)
    if delivery.round_id:
        _round_delivered_if_all_received(delivery.round)
    return receipt_summary(delivery)


def _settle_short_bag(bag: Bag, *, delivery: Delivery, by: User | None, kind: str) -> None:
    """Withdraw the bag; for an order, cut its lines and give back what was paid."""
    bag.state = Bag.State.VOID
    _save(
        bag,
        by=by,
        reason=f"short at the gate: {bag.gate_state}",
        update_fields=["state", "updated_at"],
    )
    money_text = ""
    if bag.order_id:
        order = payment_services.lock_order(bag.order_id)
        lines = list(OrderLine.objects.filter(order=order))
        for line in lines:
            line.cut_quantity = line.quantity
        OrderLine.objects.bulk_update(lines, ["cut_quantity"])
        if order.amount_due != ZERO:
            order.amount_due = ZERO
            _save(
                order, by=by, reason="short at the gate", update_fields=["amount_due", "updated_at"]
            )
        if order.state == Order.State.PLACED and order_money(order).refundable > ZERO:
            refund = payment_services.refund_issue(
                order=order,
                by=by,
                reason=Refund.Reason.NOT_DELIVERED,
                kind=kind,
                note=gettext("Bag %(code)s %(state)s at the gate")
                % {"code": bag.pickup_code, "state": bag.get_gate_state_display()},
            )
            money_text = (
                gettext("%(amount)s yuan is kept as credit for your next order.")
                if kind == Refund.Kind.CREDIT_NOTE
                else gettext("%(amount)s yuan will be refunded.")
            ) % {"amount": payment_services.money_text(refund.amount)}
        else:
            payment_services.set_payment_state(order, by=by, reason="short at the gate")
    source = delivery.round.title if delivery.round_id else str(delivery.distribution)
    notify_services.send(
        "bag_missing",
        households=[bag.household_id],
        context={
            "source": source,
            "pickup_code": bag.pickup_code,
            "problem": str(bag.get_gate_state_display()),
            "money": money_text,
        },
        dedupe_key=f"bag_missing:{bag.pk}",
    )


def _tell_supplier(delivery: Delivery, short: list[Bag]) -> None:
    round_ = delivery.round
    users = RoleGrant.objects.filter(role=Role.SUPPLIER, supplier=round_.supplier_id).values_list(
        "user_id", flat=True
    )
    notify_services.send(
        "gate_shortfall",
        users=users,
        context={
            "compound": delivery.compound.name,
            "round_title": round_.title,
            "count": str(len(short)),
            "expected": str(bag_counts(delivery.bags.all()).expected),
            "codes": ", ".join(b.pickup_code for b in short),
        },
        dedupe_key=f"gate_shortfall:{delivery.pk}",
        link=reverse("lastmile:receipt", args=[delivery.pk]),
    )


def _round_delivered_if_all_received(round_: Round) -> None:
    """The round is delivered once every compound's bags are past the gate."""
    from baogong.orders.services import round_transition

    if Delivery.objects.filter(round=round_).exclude(state__in=PAST_RECEIPT).exists():
        return
    state = Round.objects.get(pk=round_.pk).state
    if state == Round.State.CONFIRMED:
        # Goods the supplier brought itself: no trip ever dispatched the round.
        round_transition(round_=round_, action="dispatch", by=None)
        state = Round.State.DISPATCHED
    if state == Round.State.DISPATCHED:
        round_transition(round_=round_, action="deliver", by=None)
