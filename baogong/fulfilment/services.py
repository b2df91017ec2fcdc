"""Fulfilment writes: the shortage rule, consolidation, and the supplier's confirmation.

`round_confirm` is the one path by which a supplier says what it can supply: it shares a
shortage out by the round's rule, cuts lines, keeps `Order.amount_due` equal to the sum of
what will be supplied (contracts.md invariant), gives the cut units back to the offers,
moves the round to confirmed and tells each household, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from baogong.accounts.scoping import ROUND_ROLES, scope_for
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.notify import services as notify
from baogong.orders.errors import BadTransition
from baogong.orders.models import Offer, Order, OrderLine, Round
from baogong.orders.services import ACTION_LABELS, round_areas, round_transition

if TYPE_CHECKING:
    from baogong.accounts.models import User

RULE_STATES = frozenset({Round.State.DRAFT, Round.State.OPEN, Round.State.CLOSED})
CONSOLIDATED_STATES = frozenset(
    {Round.State.CLOSED, Round.State.CONFIRMED, Round.State.DISPATCHED, Round.State.DELIVERED}
)


def may_set_rule(user: User, round_: Round) -> bool:
    """Staff who run the round for all its areas (the liaison and above), not the supplier."""
    scope = scope_for(user)
    if scope.superuser:
        return True
    paths = scope.paths_for(ROUND_ROLES)
    return all(any(a.path.startswith(p) for p in paths) for a in round_areas(round_))


def may_confirm(user: User, round_: Round) -> bool:
    scope = scope_for(user)
    return scope.superuser or round_.supplier_id in scope.supplier_ids


@transaction.atomic
def round_set_shortage_rule(*, round_: Round, rule: str, by: User | None) -> Round:
    """Choose how a shortage is shared out; only before the supplier confirms."""
    if rule not in Round.ShortageRule.values:
        raise InvalidInput(_("Choose first come, first served or pro rata."))
    # Lock the round: the supplier confirming now reads the rule after this commits.
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if by is not None and not may_set_rule(by, round_):
        raise NotAllowed()
    if round_.state not in RULE_STATES:
        raise Conflict(_("The rule can only change before the supplier confirms the round."))
    if round_.shortage_rule != rule:
        round_.shortage_rule = rule
        round_._history_user = by
        round_._change_reason = "shortage rule"
        round_.save(update_fields=["shortage_rule", "updated_at"])
    return round_


@transaction.atomic
def round_consolidate(*, round_id: int, by: User | None = None) -> bool:
    """Mark a closed round as consolidated (once) and ask for its documents; True if it did."""
    from baogong.fulfilment.documents import documents_request

    # Lock the round: the cut-off task and a liaison closing at once consolidate once.
    round_ = Round.objects.select_for_update().filter(pk=round_id).first()
    if round_ is None or round_.state not in CONSOLIDATED_STATES or round_.consolidated_at:
        return False
    round_.consolidated_at = timezone.now()
    round_._history_user = by
    round_._change_reason = "consolidated"
    round_.save(update_fields=["consolidated_at", "updated_at"])
    documents_request(round_, by=by)
    return True


# --- confirmation with shortages ------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One order line competing for a short package."""

    line_id: int
    order_id: int
    placed_at: object
    quantity: int


def share_first_come(claims: list[Claim], available: int) -> dict[int, int]:
    """Units each line gets, earliest order first; returns line id → units."""
    given = {}
    for claim in sorted(claims, key=lambda c: (c.placed_at, c.order_id, c.line_id)):
        units = min(claim.quantity, available)
        given[claim.line_id] = units
        available -= units
    return given


def share_pro_rata(claims: list[Claim], available: int) -> dict[int, int]:
    """Units in proportion to the quantity ordered, rounded by largest remainder.

    Exact integer arithmetic: each line gets floor(q × available / demand); the units left
    go one each to the largest remainders, ties to the earliest order. Never more than
    ordered, and the shares add up to exactly `available` (when it is below demand).
    """
    demand = sum(c.quantity for c in claims)
    if available >= demand:
        return {c.line_id: c.quantity for c in claims}
    given, remainders = {}, []
    for claim in claims:
        units, remainder = divmod(claim.quantity * available, demand)
        given[claim.line_id] = units
        remainders.append((-remainder, claim.placed_at, claim.order_id, claim.line_id))
    left = available - sum(given.values())
    for _r, _placed, _order, line_id in sorted(remainders)[:left]:
        given[line_id] += 1
    return given


SHARE = {
    Round.ShortageRule.FIRST_COME: share_first_come,
    Round.ShortageRule.PRO_RATA: share_pro_rata,
}


@dataclass
class Confirmation:
    round: Round
    cut_units: dict[int, int] = field(default_factory=dict)  # offer id → units cut
    orders_cut: int = 0
    households_told: int = 0


def _clean_available(round_: Round, available: Mapping[int, int]) -> dict[int, int]:
    offers = set(Offer.objects.filter(round=round_).values_list("pk", flat=True))
    clean = {}
    for raw_id, raw_units in available.items():
        try:
            offer_id, units = int(raw_id), int(raw_units)
        except (TypeError, ValueError):
            raise InvalidInput(_("Say how many units can be supplied as a whole number.")) from None
        if offer_id not in offers:
            raise InvalidInput(_("That package is not offered in this round."))
        if units < 0:
            raise InvalidInput(_("The units that can be supplied cannot be negative."))
        clean[offer_id] = units
    return clean


@transaction.atomic
def round_confirm(*, round_: Round, available: Mapping[int, int], by: User | None) -> Confirmation:
    """Confirm a closed round; `available` maps offer id → units the supplier can supply
    (offers not named are supplied in full). Cuts lines by the round's shortage rule,
    recomputes amounts, releases cut stock, confirms the round and tells the households.

    Locks round → orders (pk order) → offers (pk order), the order every writer of
    these rows follows. Raises NotAllowed (not the supplier), InvalidInput, or
    BadTransition (round not closed). Confirming a confirmed round changes nothing.
    """
    # Lock the round first: a second confirmation waits and then finds it confirmed.
    round_ = Round.objects.select_for_update().select_related("supplier").get(pk=round_.pk)
    if by is not None and not may_confirm(by, round_):
        raise NotAllowed()
    result = Confirmation(round=round_)
    if round_.state == Round.State.CONFIRMED:
        return result
    wanted = _clean_available(round_, available)
    if round_.state != Round.State.CLOSED:
        raise BadTransition(state=round_.get_state_display(), action=ACTION_LABELS["confirm"])
    # Lock the orders: a payment or a drop at the same moment sees the new amounts.
    orders = {
        o.pk: o
        for o in Order.objects.select_for_update(of=("self",))
        .filter(round=round_, state=Order.State.PLACED)
        .order_by("pk")
    }
    lines = list(
        OrderLine.objects.filter(order_id__in=orders)
        .order_by("pk")
        .only("pk", "order_id", "offer_id", "quantity", "cut_quantity", "unit_price")
    )
    by_offer: dict[int, list[Claim]] = {}
    for line in lines:
        by_offer.setdefault(line.offer_id, []).append(
            Claim(line.pk, line.order_id, orders[line.order_id].placed_at, line.quantity)
        )
    share = SHARE[round_.shortage_rule]
    given: dict[int, int] = {}
    for offer_id, claims in by_offer.items():
        if offer_id in wanted:
            given.update(share(claims, wanted[offer_id]))
    changed_lines, released = [], {}
    for line in lines:
        cut = line.quantity - given.get(line.pk, line.quantity)
        if cut != line.cut_quantity:
            released[line.offer_id] = released.get(line.offer_id, 0) + cut - line.cut_quantity
            line.cut_quantity = cut
            changed_lines.append(line)
    OrderLine.objects.bulk_update(changed_lines, ["cut_quantity"], batch_size=1000)
    _update_amounts(orders, lines, by=by)
    # Give the cut units back to the offers, in pk order like every stock change.
    for offer_id in sorted(released):
        Offer.objects.filter(pk=offer_id).update(sold=F("sold") - released[offer_id])
    result.cut_units = {k: v for k, v in released.items() if v}
    result.orders_cut = len({line.order_id for line in lines if line.cut_quantity})
    round_ = round_transition(round_=round_, action="confirm", by=by)
    result.round = round_
    result.households_told = round_tell_households(
        round_, orders=list(orders.values()), lines=lines
    )
    return result


def _update_amounts(orders: dict[int, Order], lines: list[OrderLine], *, by: User | None) -> None:
    """Keep amount_due = Σ unit price × supplied units, with a history row per changed order."""
    due = dict.fromkeys(orders, Decimal("0.00"))
    for line in lines:
        due[line.order_id] += line.unit_price * (line.quantity - line.cut_quantity)
    changed = []
    now = timezone.now()
    for order_id, amount in due.items():
        order = orders[order_id]
        if order.amount_due != amount:
            order.amount_due = amount
            order.updated_at = now
            changed.append(order)
    if changed:
        bulk_update_with_history(
            changed,
            Order,
            ["amount_due", "updated_at"],
            batch_size=1000,
            default_user=by,
            default_change_reason="shortage at confirmation",
        )


def round_tell_households(
    round_: Round, *, orders: list[Order] | None = None, lines: list[OrderLine] | None = None
) -> int:
    """Tell each household of a confirmed round: confirmed, or cut short (and what was cut).

    Safe to run again (e.g. after a plain confirm from the round page): each order's
    message has a dedupe key, so nobody is told twice.
    """
    if orders is None:
        orders = list(Order.objects.filter(round=round_, state=Order.State.PLACED))
    if lines is None:
        lines = list(OrderLine.objects.filter(order__in=orders))
    names = dict(Offer.objects.filter(round=round_).values_list("pk", "name"))
    cut: dict[int, list[str]] = {}
    for line in lines:
        if line.cut_quantity:
            cut.setdefault(line.order_id, []).append(f"{names[line.offer_id]}×{line.cut_quantity}")
    delivery = (
        date_format(timezone.localtime(round_.delivery_at), "SHORT_DATETIME_FORMAT")
        if round_.delivery_at
        else str(_("to be announced"))
    )
    told = 0
    for order in orders:
        context = {
            "round_title": round_.title,
            "pickup_code": order.pickup_code,
            "amount": f"{order.amount_due:.2f}",
        }
        if order.pk in cut:
            kind = "order_cut"
            context["cut_items"] = "、".join(cut[order.pk])
        else:
            kind = "order_confirmed"
            context["delivery_at"] = delivery
        told += bool(
            notify.send(
                kind,
                households=[order.household_id],
                context=context,
                dedupe_key=f"{kind}:{order.pk}",
                link="/my-orders/",
            )
        )
    return told
