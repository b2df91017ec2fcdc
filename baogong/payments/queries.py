"""Reads of money that pages, exports, services and the report share.

Each money figure comes from grouped sums (one query per kind of row), never from
a loop over rows, and goes through `money.OrderMoney` so every page computes
unpaid, credit and refund due the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from baogong.areas.queries import natural_key
from baogong.orders.models import Order, Round
from baogong.payments.models import Payment, Refund, Statement, StatementLine, Waiver
from baogong.payments.money import ZERO, MoneyTotals, OrderMoney

_MONEY = DecimalField(max_digits=12, decimal_places=2)


def _sums(model: type, order_ids: Iterable[int], **filters: object) -> dict[int, Decimal]:
    # SQLite sums decimals as floats-with-digits ("215.900000000000"): back to cents.
    return {
        order_id: total.quantize(ZERO)
        for order_id, total in model.objects.filter(order_id__in=order_ids, **filters)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
        .order_by()
    }


def money_for(orders: QuerySet[Order] | list[Order]) -> dict[int, OrderMoney]:
    """OrderMoney of each order (4 grouped queries, whatever the number of orders)."""
    states = (
        {o.pk: (o.state, o.amount_due) for o in orders}
        if isinstance(orders, list)
        else {pk: (s, a) for pk, s, a in orders.values_list("pk", "state", "amount_due")}
    )
    ids = list(states)
    if isinstance(orders, QuerySet):
        ids_filter: Iterable[int] | QuerySet = orders.values("pk")
    else:
        ids_filter = ids
    received = _sums(Payment, ids_filter, state=Payment.State.CONFIRMED)
    claimed = _sums(Payment, ids_filter, state=Payment.State.REPORTED)
    waived = _sums(Waiver, ids_filter)
    refunded = _sums(Refund, ids_filter)
    return {
        pk: OrderMoney(
            due=amount if state == Order.State.PLACED else ZERO,
            received=received.get(pk, ZERO),
            waived=waived.get(pk, ZERO),
            refunded=refunded.get(pk, ZERO),
            claimed=claimed.get(pk, ZERO),
        )
        for pk, (state, amount) in states.items()
    }


def order_money(order: Order) -> OrderMoney:
    return money_for([order])[order.pk]


# --- the round payments page ------------------------------------------------------------

FILTERS = {
    "unpaid": Q(state=Order.State.PLACED, payment_state=Order.PaymentState.UNPAID),
    "claimed": Q(state=Order.State.PLACED, payment_state=Order.PaymentState.CLAIMED),
    "paid": Q(state=Order.State.PLACED, payment_state=Order.PaymentState.PAID),
    "waived": Q(state=Order.State.PLACED, payment_state=Order.PaymentState.WAIVED),
    "dropped": Q(state=Order.State.DROPPED),
}


def round_money_orders(round_: Round, compound_ids: list[int] | None) -> QuerySet[Order]:
    """The round's orders that carry money, in the given compounds (None: all of them).

    Placed and dropped orders, and cancelled ones only when money moved on them.
    """
    with_money = Q(payments__isnull=False) | Q(refunds__isnull=False)
    orders = Order.objects.filter(round=round_)
    if compound_ids is not None:
        orders = orders.filter(compound_id__in=compound_ids)
    return orders.filter(
        Q(state__in=[Order.State.PLACED, Order.State.DROPPED]) | with_money
    ).distinct()


def payment_rows(orders: QuerySet[Order], which: str = "") -> list[Order]:
    """Orders for the payments page in packing order, each with `money` and `open_payments`."""
    if which in FILTERS:
        orders = orders.filter(FILTERS[which])
    rows = list(orders.select_related("household__building", "compound"))
    rows.sort(
        key=lambda o: (
            natural_key(o.compound.name),
            natural_key(o.household.building.name),
            natural_key(o.household.unit),
            natural_key(o.household.room),
        )
    )
    money = money_for(rows)
    reported = defaultdict(list)
    for payment in Payment.objects.filter(
        order__in=[o.pk for o in rows], state=Payment.State.REPORTED
    ).order_by("pk"):
        reported[payment.order_id].append(payment)
    for order in rows:
        order.money = money[order.pk]
        order.open_payments = reported.get(order.pk, [])
    return rows


def order_ledger(order: Order) -> list[tuple[str, object]]:
    """An order's payments, waivers and refunds, oldest first, as (kind, row)."""
    rows: list[tuple[str, object]] = [("payment", p) for p in order.payments.all()]
    rows += [("waiver", w) for w in order.waivers.select_related("granted_by")]
    rows += [("refund", r) for r in order.refunds.all()]
    return sorted(rows, key=lambda kr: kr[1].created_at)


# --- the money report ------------------------------------------------------------------


@dataclass
class MoneyReport:
    """A round's money, per compound, with the round's total."""

    round: Round
    rows: list[tuple[str, MoneyTotals]] = field(default_factory=list)
    total: MoneyTotals = field(default_factory=MoneyTotals)


def round_money_report(round_: Round, compound_ids: list[int]) -> MoneyReport:
    orders = round_money_orders(round_, compound_ids)
    money = money_for(orders)
    per_compound: dict[str, MoneyTotals] = defaultdict(MoneyTotals)
    for pk, compound in orders.values_list("pk", "compound__name"):
        per_compound[compound].add(money[pk])
    report = MoneyReport(round=round_)
    for name in sorted(per_compound, key=natural_key):
        report.rows.append((name, per_compound[name]))
        report.total.merge(per_compound[name])
    return report


def supplier_money_report(supplier_id: int) -> list[tuple[Round, MoneyTotals]]:
    """Per round of a supplier (newest first), the round's money."""
    rounds = Round.objects.filter(supplier_id=supplier_id).exclude(state=Round.State.DRAFT)
    result = []
    for round_ in rounds.order_by("-opens_at", "-pk"):
        totals = MoneyTotals()
        for money in money_for(round_money_orders(round_, None)).values():
            totals.add(money)
        result.append((round_, totals))
    return result


def owed_unpaid_orders(round_: Round) -> list[tuple[int, int, Decimal]]:
    """(order, household, amount still owed) of the round's live UNPAID orders."""
    waived = (
        Waiver.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = (
        Order.objects.filter(
            round=round_, state=Order.State.PLACED, payment_state=Order.PaymentState.UNPAID
        )
        .annotate(waived=Coalesce(Subquery(waived), Value(ZERO), output_field=_MONEY))
        .values_list("pk", "household_id", "amount_due", "waived")
        .order_by("pk")
    )
    return [(pk, hh, due - min(w.quantize(ZERO), due)) for pk, hh, due, w in rows]


# --- statements --------------------------------------------------------------------------


def supplier_statements(supplier_id: int) -> QuerySet[Statement]:
    return Statement.objects.filter(supplier_id=supplier_id).select_related("uploaded_by")


def review_lines(supplier_id: int) -> QuerySet[StatementLine]:
    """A supplier's statement lines that still need a person: unmatched and ambiguous."""
    return StatementLine.objects.filter(
        supplier_id=supplier_id,
        match_state__in=[StatementLine.Match.UNMATCHED, StatementLine.Match.AMBIGUOUS],
    ).order_by("paid_at", "pk")
