"""Rounds and orders: every write goes through here, whatever the channel.

Concurrency (PostgreSQL, many web workers):
- A household's row is locked (SELECT … FOR UPDATE) for the whole placement, so
  the one-order-per-round and cadence rules see every earlier order of that
  household, even one being placed at the same moment from another channel.
- Stock, and the order count of a round with a capacity, are taken by
  conditional UPDATEs (sold = sold + n WHERE sold + n <= stock_cap; the count
  WHERE the round is open and below its capacity): the database, not Python,
  decides who gets the last unit and the last slot. They are the last writes of a
  placement, offers in primary-key order and then the round, so these hot rows
  stay locked only until the commit that follows, and two placements (or a
  placement and a cancellation, which takes them in the same order) cannot
  deadlock. A round without a capacity is not counted in (orders are counted on
  read): its row is only locked FOR KEY SHARE, which placements do not conflict
  on. Either way the round's state is re-checked under that lock, which closing
  the round (FOR UPDATE) waits for: an order racing the cut-off either commits
  before the round closes or is refused.
- The statements themselves are in placing.py: on PostgreSQL a new order is two
  writing statements, the household's lock with the order's INSERT, then the
  stock, the round and the cadence rule (checked after the lock, in a later
  statement, so it sees every earlier order of the household).
On SQLite the whole write transaction is serialised (IMMEDIATE mode), which
gives the same guarantees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.accounts.scoping import PROXY_ROLES, ROUND_ROLES, scope_for
from baogong.areas.models import Area, Household
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.notify.services import send
from baogong.orders import placing
from baogong.orders.errors import (
    BadTransition,
    CadenceRule,
    EmptyOrder,
    NotInRoundArea,
    OverLimit,
    RoundFull,
    RoundNotOpen,
    SoldOut,
    UnknownOffer,
)
from baogong.orders.models import ApiClient, Offer, Order, OrderLine, Round, RoundArea
from baogong.orders.pickup import new_pickup_code
from baogong.orders.placing import RoundFacts
from baogong.orders.signals import round_transitioned

if TYPE_CHECKING:
    from baogong.accounts.models import User
    from baogong.supply.models import Package, Supplier

CHANNELS_FOR_STAFF = frozenset({Order.Channel.PROXY, Order.Channel.CHAIN, Order.Channel.EXCEL})


# --- rounds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferSpec:
    package: Package
    code: str
    price: Decimal | None = None  # default: the package's price
    stock_cap: int | None = None  # default: the package's stock per round
    per_household_limit: int | None = None


def may_run_round(user: User, *, supplier: Supplier, areas: Iterable[Area]) -> bool:
    """The supplier's own users, or staff whose subtree holds every area of the round."""
    scope = scope_for(user)
    if scope.superuser or supplier.pk in scope.supplier_ids:
        return True
    paths = scope.paths_for(ROUND_ROLES)
    return all(any(area.path.startswith(p) for p in paths) for area in areas)


def round_check(
    *,
    supplier_id: int,
    areas: list[Area],
    opens_at: dt.datetime,
    cutoff_at: dt.datetime,
    offers: list[OfferSpec],
) -> list[str]:
    """Check a round's areas, times and offers (create and edit alike); return the offer codes."""
    if not areas:
        raise InvalidInput(_("Choose at least one compound or community."))
    if any(a.kind not in (Area.Kind.COMPOUND, Area.Kind.COMMUNITY) for a in areas):
        raise InvalidInput(_("A round serves compounds or whole communities."))
    if cutoff_at <= opens_at:
        raise InvalidInput(_("The cut-off must be after the opening time."))
    if not offers:
        raise InvalidInput(_("Offer at least one package."))
    codes = [spec.code.strip().upper() for spec in offers]
    if len(set(codes)) != len(codes):
        raise InvalidInput(_("Each package in a round needs its own option letter or number."))
    if any(spec.package.supplier_id != supplier_id for spec in offers):
        raise InvalidInput(_("A round offers only its own supplier's packages."))
    return codes


def round_write_offers(round_: Round, offers: list[OfferSpec], codes: list[str]) -> None:
    """Create the round's offers, defaults from each package (price, stock, limit)."""
    Offer.objects.bulk_create(
        [
            Offer(
                round=round_,
                package=spec.package,
                code=code,
                name=spec.package.name,
                price=spec.price if spec.price is not None else spec.package.price,
                stock_cap=(
                    spec.stock_cap if spec.stock_cap is not None else spec.package.default_stock_cap
                ),
                per_household_limit=spec.per_household_limit or spec.package.per_household_limit,
                position=position,
            )
            for position, (spec, code) in enumerate(zip(offers, codes, strict=True))
        ]
    )


@transaction.atomic
def round_create(
    *,
    supplier: Supplier,
    title: str,
    areas: list[Area],
    opens_at: dt.datetime,
    cutoff_at: dt.datetime,
    offers: list[OfferSpec],
    by: User | None,
    payment_deadline: dt.datetime | None = None,
    delivery_at: dt.datetime | None = None,
    delivery_place: str = Round.Place.GATE,
    delivery_note: str = "",
    capacity: int | None = None,
) -> Round:
    """Create a draft round with its offers. Areas are compounds or whole communities."""
    if by is not None and not may_run_round(by, supplier=supplier, areas=areas):
        raise NotAllowed()
    codes = round_check(
        supplier_id=supplier.pk,
        areas=areas,
        opens_at=opens_at,
        cutoff_at=cutoff_at,
        offers=offers,
    )
    round_ = Round(
        supplier=supplier,
        title=title.strip(),
        opens_at=opens_at,
        cutoff_at=cutoff_at,
        payment_deadline=payment_deadline,
        delivery_at=delivery_at,
        delivery_place=delivery_place,
        delivery_note=delivery_note,
        capacity=capacity,
        created_by=by,
    )
    round_._history_user = by
    round_.save()
    RoundArea.objects.bulk_create([RoundArea(round=round_, area=a) for a in areas])
    round_write_offers(round_, offers, codes)
    return round_


# Which states each action moves a round from, and to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({Round.State.DRAFT}), Round.State.OPEN),
    "close": (frozenset({Round.State.OPEN}), Round.State.CLOSED),
    "confirm": (frozenset({Round.State.CLOSED}), Round.State.CONFIRMED),
    "dispatch": (frozenset({Round.State.CONFIRMED}), Round.State.DISPATCHED),
    "deliver": (frozenset({Round.State.DISPATCHED}), Round.State.DELIVERED),
    "settle": (frozenset({Round.State.DELIVERED}), Round.State.SETTLED),
    "cancel": (
        frozenset({Round.State.DRAFT, Round.State.OPEN, Round.State.CLOSED}),
        Round.State.CANCELLED,
    ),
}
# How each action reads in "A round that is … cannot be …".
ACTION_LABELS = {
    "open": _("opened"),
    "close": _("closed"),
    "confirm": _("confirmed"),
    "dispatch": _("dispatched"),
    "deliver": _("marked delivered"),
    "settle": _("settled"),
    "cancel": _("cancelled"),
}
# Only the supplier confirms and dispatches what it will deliver.
SUPPLIER_ONLY_ACTIONS = frozenset({"confirm", "dispatch"})


def round_areas(round_: Round) -> list[Area]:
    return list(
        Area.objects.filter(pk__in=RoundArea.objects.filter(round=round_).values("area_id"))
    )


@transaction.atomic
def round_transition(*, round_: Round, action: str, by: User | None, reason: str = "") -> Round:
    """Move a round along draft → open → closed → confirmed → dispatched → delivered → settled
    (or cancelled). Closing twice is not an error: a round already closed stays as it is."""
    sources, target = TRANSITIONS[action]
    # Lock the round: a cut-off task and a liaison closing at the same moment act once.
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if by is not None:
        scope = scope_for(by)
        if action in SUPPLIER_ONLY_ACTIONS:
            allowed = scope.superuser or round_.supplier_id in scope.supplier_ids
        else:
            allowed = may_run_round(by, supplier=round_.supplier, areas=round_areas(round_))
        if not allowed:
            raise NotAllowed()
    if round_.state == target:
        return round_
    if round_.state not in sources:
        raise BadTransition(state=round_.get_state_display(), action=ACTION_LABELS[action])
    round_.state = target
    if action in ("close", "cancel"):
        round_.closed_reason = reason[:100]
    round_._history_user = by
    round_._change_reason = action
    round_.save(update_fields=["state", "closed_reason", "updated_at"])
    round_id, by_id = round_.pk, getattr(by, "pk", None)
    if action == "cancel":
        transaction.on_commit(lambda: round_release_orders(round_id))
    _tell_round_people(round_, kind=f"round_{action}", reason=reason)
    transaction.on_commit(
        lambda: round_transitioned.send(Round, round_id=round_id, action=action, by_id=by_id)
    )
    return round_


def round_close_if_done(round_id: int) -> bool:
    """Close an open round that reached its capacity or sold every offer; True if it did."""
    round_ = (
        Round.objects.filter(pk=round_id, state=Round.State.OPEN)
        .annotate(
            unsold=Exists(Offer.objects.filter(round=OuterRef("pk"), sold__lt=F("stock_cap")))
        )
        .first()
    )
    if round_ is None:
        return False
    full = round_.capacity is not None and round_.orders_count >= round_.capacity
    sold_out = not round_.unsold
    if not (full or sold_out):
        return False
    reason = str(_("capacity reached") if full else _("sold out"))
    round_transition(round_=round_, action="close", by=None, reason=reason)
    return True


def _tell_round_people(round_: Round, *, kind: str, reason: str = "") -> None:
    """Tell the supplier's users and the liaisons of the round's compounds."""
    from baogong.accounts.models import RoleGrant

    under_round = Q(pk__in=[])
    for area in round_areas(round_):
        under_round |= Q(area__path__startswith=area.path)
    liaisons = RoleGrant.objects.filter(under_round, role=Role.LIAISON)
    recipients = set(liaisons.values_list("user_id", flat=True))
    recipients |= set(
        RoleGrant.objects.filter(role=Role.SUPPLIER, supplier=round_.supplier_id).values_list(
            "user_id", flat=True
        )
    )
    send(
        kind,
        users=recipients,
        context={"round_title": round_.title, "reason": reason},
        link=f"/rounds/{round_.pk}/",
        dedupe_key=f"{kind}:{round_.pk}",
    )


# --- orders ----------------------------------------------------------------------------


def _check_may_order(
    *,
    by: User | None,
    api_client: ApiClient | None,
    channel: str,
    household: Household,
    supplier_id: int,
) -> None:
    if channel == Order.Channel.API:
        if api_client is None or api_client.revoked_at or api_client.supplier_id != supplier_id:
            raise NotAllowed()
        return
    if by is None:
        return  # the system itself (demo loader, tests of the rules)
    scope = scope_for(by)
    if channel == Order.Channel.SELF:
        if household.pk not in scope.household_ids:
            raise NotAllowed()
        return
    if channel not in CHANNELS_FOR_STAFF:
        raise NotAllowed()
    if not (
        scope.superuser
        or any(household.building.path.startswith(p) for p in scope.paths_for(PROXY_ROLES))
    ):
        raise NotAllowed()


def _check_round_serves(facts: RoundFacts, household: Household) -> None:
    if not any(household.building.path.startswith(p) for p in facts.area_paths):
        raise NotInRoundArea()


def _check_open(round_: Round | RoundFacts, now: dt.datetime) -> None:
    if round_.state != Round.State.OPEN or not (round_.opens_at <= now < round_.cutoff_at):
        raise RoundNotOpen()


def _cadence_refusal(previous: dt.datetime, days: int) -> CadenceRule:
    local = timezone.localtime(previous)
    return CadenceRule(
        previous=date_format(local, "SHORT_DATETIME_FORMAT"),
        next=date_format(local + dt.timedelta(days=days), "SHORT_DATETIME_FORMAT"),
        days=days,
    )


def _resolve_lines(facts: RoundFacts, lines: Mapping[int, int]) -> dict[int, tuple[Offer, int]]:
    """Map offer id → (offer, quantity), refusing unknown offers, bad or over-limit quantities."""
    wanted = {int(k): int(v) for k, v in lines.items() if int(v) != 0}
    if not wanted:
        raise EmptyOrder()
    resolved = {}
    for offer_id, quantity in sorted(wanted.items()):
        offer = facts.offers.get(offer_id)
        if offer is None:
            raise UnknownOffer()
        if quantity < 0:
            raise InvalidInput(_("A quantity cannot be negative."))
        if quantity > offer.per_household_limit:
            raise OverLimit(limit=offer.per_household_limit, package=offer.name)
        resolved[offer_id] = (offer, quantity)
    return resolved


def _take_stock(deltas: dict[int, int]) -> bool:
    """Apply stock changes (see placing.take_stock); True if an offer is now sold out."""
    short, sold_out = placing.take_stock(deltas)
    if short is not None:
        offer = Offer.objects.get(pk=short)
        raise SoldOut(package=offer.name, remaining=offer.remaining)
    return sold_out


def _refuse_on_hot_rows(hot: placing.HotRows, *, round_id: int, cadence_days: int | None) -> None:
    """Raise the refusal take_hot_rows found, if any: cadence first, then stock, then
    the round (closed in between, or full)."""
    if hot.previous is not None:
        raise _cadence_refusal(hot.previous, cadence_days)
    if hot.short is not None:
        offer = Offer.objects.get(pk=hot.short)
        raise SoldOut(package=offer.name, remaining=offer.remaining)
    if hot.orders_count is None:
        state = Round.objects.filter(pk=round_id).values_list("state", flat=True).first()
        if state != Round.State.OPEN:
            raise RoundNotOpen()
        raise RoundFull()


def order_place(
    *,
    round_: Round,
    household: Household,
    lines: Mapping[int, int],
    channel: str,
    by: User | None,
    api_client: ApiClient | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    facts: RoundFacts | None = None,
    on_placed: Callable[[Order], None] | None = None,
    savepoint: bool = True,
) -> Order:
    """Place a household's order in a round, or replace the lines of its existing order.

    `lines` maps offer id → quantity (0 drops a line). Raises an OrderRefused subclass
    saying why (round not open, not served, cadence, over limit, sold out, round full)
    or NotAllowed; on any refusal nothing is written. `facts` is the round as
    placing.round_facts read it in the caller's transaction (the API reads it first
    to find the household); without it the round is read here.

    A new order is written first (placing.insert_order, which locks the household);
    the cadence rule is checked with the stock (placing.take_hot_rows) and a refusal
    rolls the order back. `on_placed(order)` runs once the order and its lines are
    written, just before the stock and round rows are taken: a caller's own write
    there (the API's idempotency record) does not lengthen the time those hot rows
    stay locked. `savepoint=False` is for a caller that rolls back its whole
    transaction on a refusal anyway (the API): it saves the savepoint's two statements.
    """
    with transaction.atomic(savepoint=savepoint):
        now = now or timezone.now()
        facts = facts or placing.round_facts(round_.pk)
        if facts is None:
            raise Round.DoesNotExist()
        _check_may_order(
            by=by,
            api_client=api_client,
            channel=channel,
            household=household,
            supplier_id=facts.supplier_id,
        )
        _check_open(facts, now)
        _check_round_serves(facts, household)
        resolved = _resolve_lines(facts, lines)
        amount = sum((offer.price * qty for offer, qty in resolved.values()), Decimal("0.00"))
        order, placed = _insert_order(
            round_=round_,
            household=household,
            resolved=resolved,
            channel=channel,
            by=by,
            api_client=api_client,
            amount=amount,
            note=note,
            now=now,
        )
        cadence = None
        if placed.new:
            old_quantities, is_new = {}, True
            if placed.cadence_days:
                since = now - dt.timedelta(days=placed.cadence_days)
                cadence = placing.Cadence(household.pk, placed.compound_id, since)
        else:
            order, old_quantities, is_new = _replace_order(
                order, placed=placed, resolved=resolved, by=by
            )
        if on_placed is not None:
            on_placed(order)
        new_quantities = {offer_id: qty for offer_id, (_offer, qty) in resolved.items()}
        deltas = {
            k: new_quantities.get(k, 0) - old_quantities.get(k, 0)
            for k in set(new_quantities) | set(old_quantities)
        }
        capacity = facts.capacity is not None
        hot = placing.take_hot_rows(
            round_id=facts.pk, deltas=deltas, count=is_new and capacity, cadence=cadence
        )
        _refuse_on_hot_rows(hot, round_id=facts.pk, cadence_days=placed.cadence_days)
        full = capacity and hot.orders_count >= facts.capacity
        if hot.sold_out or full:
            round_id = facts.pk
            transaction.on_commit(lambda: round_close_if_done(round_id))
        return order


def _insert_order(
    *,
    round_: Round,
    household: Household,
    resolved: dict[int, tuple[Offer, int]],
    channel: str,
    by: User | None,
    api_client: ApiClient | None,
    amount: Decimal,
    note: str,
    now: dt.datetime,
) -> tuple[Order, placing.Inserted]:
    """The household's order in the round, its history row and its lines, written unless
    the household has an order in the round already (see placing.insert_order)."""
    written = timezone.now()
    order = Order(
        round=round_,
        household=household,
        compound_id=household.compound_id,
        channel=channel,
        entered_by=by,
        api_client=api_client,
        state=Order.State.PLACED,
        amount_due=amount,
        note=note[:200],
        placed_at=now,
        pickup_code=new_pickup_code(),
        created_at=written,
        updated_at=written,
    )
    lines = [
        OrderLine(offer_id=offer_id, quantity=qty, unit_price=offer.price)
        for offer_id, (offer, qty) in resolved.items()
    ]
    placed = placing.insert_order(order, lines, history_user_id=getattr(by, "pk", None))
    return order, placed


def _replace_order(
    wanted: Order,
    *,
    placed: placing.Inserted,
    resolved: dict[int, tuple[Offer, int]],
    by: User | None,
) -> tuple[Order, dict[int, int], bool]:
    """The household's existing order in the round, given what `wanted` (the order
    insert_order did not write) says and the new lines; the household is locked. A
    cancelled order placed again is new for the cadence rule. Returns the order, its
    quantities before, and whether it counts as a new order."""
    days = placed.cadence_days
    since = wanted.placed_at - dt.timedelta(days=days) if days else None
    order_id, previous = placing.orders_of(
        household_id=wanted.household_id,
        round_id=wanted.round_id,
        compound_id=placed.compound_id,
        since=since,
    )
    order = Order.objects.get(pk=order_id)
    is_new = order.state == Order.State.CANCELLED
    if is_new and previous is not None:
        raise _cadence_refusal(previous, days)
    old_quantities = {} if is_new else dict(order.lines.values_list("offer_id", "quantity"))
    for name in ("channel", "entered_by", "api_client", "state", "amount_due", "note"):
        setattr(order, name, getattr(wanted, name))
    if is_new:
        order.placed_at = wanted.placed_at
    order._history_user = by
    order.save()
    _write_lines(order, resolved)
    return order, old_quantities, is_new


def _write_lines(order: Order, resolved: dict[int, tuple[Offer, int]]) -> None:
    """Replace an existing order's lines: drop, update and add."""
    OrderLine.objects.filter(order=order).exclude(offer_id__in=resolved).delete()
    for offer_id, (offer, qty) in resolved.items():
        OrderLine.objects.update_or_create(
            order=order, offer_id=offer_id, defaults={"quantity": qty, "unit_price": offer.price}
        )


@transaction.atomic
def order_cancel(
    *,
    order: Order,
    by: User | None,
    api_client: ApiClient | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Cancel an order before cut-off and give its stock back. Cancelling twice does nothing."""
    now = now or timezone.now()
    channel = (
        Order.Channel.API
        if api_client
        else (
            Order.Channel.SELF
            if by is not None and order.household_id in scope_for(by).household_ids
            else Order.Channel.PROXY
        )
    )
    _check_may_order(
        by=by,
        api_client=api_client,
        channel=channel,
        household=order.household,
        supplier_id=order.round.supplier_id,
    )
    Household.objects.select_for_update().filter(pk=order.household_id).first()
    order = Order.objects.select_related("round").get(pk=order.pk)
    if order.state == Order.State.CANCELLED:
        return order
    _check_open(order.round, now)
    _release(order, by=by)
    return order


def _release(order: Order, *, by: User | None) -> None:
    """Cancel one order and give back its stock; locks order → offers → round, like placing."""
    deltas = {offer_id: -qty for offer_id, qty in order.lines.values_list("offer_id", "quantity")}
    order.state = Order.State.CANCELLED
    order._history_user = by
    order.save(update_fields=["state", "updated_at"])
    _take_stock(deltas)
    # Only a round with a capacity counts its orders (see Round.orders_count).
    Round.objects.filter(pk=order.round_id, capacity__isnull=False).update(
        orders_count=F("orders_count") - 1
    )


def round_release_orders(round_id: int) -> int:
    """Cancel every live order of a cancelled round, one transaction per order; idempotent.

    Runs after the cancellation commits rather than inside it: the round row is then no
    longer locked, so it cannot deadlock with an order being placed at that moment (which
    is refused anyway, the round being no longer open).
    """
    released = 0
    for order_id in Order.objects.filter(round_id=round_id, state=Order.State.PLACED).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.state == Order.State.PLACED:
                _release(order, by=None)
                released += 1
    return released
