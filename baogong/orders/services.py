"""Rounds and orders: every write goes through here, whatever the channel.

Concurrency (PostgreSQL, many web workers):
- A household's row is locked (SELECT … FOR UPDATE) for the whole placement, so
  the one-order-per-round and cadence rules see every earlier order of that
  household, even one being placed at the same moment from another channel.
- Stock and round capacity are taken by conditional UPDATEs
  (sold = sold + n WHERE sold + n <= stock_cap): the database, not Python,
  decides who gets the last unit. They run last in the transaction, in offer
  primary-key order, so the hot offer rows stay locked for as short a time as
  possible and two orders cannot deadlock.
On SQLite the whole write transaction is serialised (IMMEDIATE mode), which
gives the same guarantees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.accounts.scoping import PROXY_ROLES, ROUND_ROLES, scope_for
from baogong.areas.models import Area, Household
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.notify.services import notify
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
    subject = _("Round “%(title)s” is now %(state)s") % {
        "title": round_.title,
        "state": round_.get_state_display(),
    }
    notify(
        user_ids=recipients,
        kind=kind,
        subject=str(subject),
        body=reason,
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
    round_: Round,
) -> None:
    if channel == Order.Channel.API:
        if (
            api_client is None
            or api_client.revoked_at
            or api_client.supplier_id != round_.supplier_id
        ):
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


def _check_round_serves(round_: Round, household: Household) -> None:
    paths = RoundArea.objects.filter(round=round_).values_list("area__path", flat=True)
    if not any(household.building.path.startswith(p) for p in paths):
        raise NotInRoundArea()


def _check_open(round_: Round, now: dt.datetime) -> None:
    if round_.state != Round.State.OPEN or not (round_.opens_at <= now < round_.cutoff_at):
        raise RoundNotOpen()


def _check_cadence(household: Household, round_: Round, now: dt.datetime) -> None:
    """At most one live order per household per cadence window in its compound."""
    days = household.compound.cadence_days
    if not days:
        return
    since = now - dt.timedelta(days=days)
    previous = (
        Order.objects.filter(
            household=household,
            compound=household.compound_id,
            state=Order.State.PLACED,
            placed_at__gt=since,
        )
        .exclude(round=round_)
        .order_by("-placed_at")
        .first()
    )
    if previous is not None:
        local = timezone.localtime(previous.placed_at)
        raise CadenceRule(
            previous=date_format(local, "SHORT_DATETIME_FORMAT"),
            next=date_format(local + dt.timedelta(days=days), "SHORT_DATETIME_FORMAT"),
            days=days,
        )


def _resolve_lines(round_: Round, lines: Mapping[int, int]) -> dict[int, tuple[Offer, int]]:
    """Map offer id → (offer, quantity), refusing unknown offers, bad or over-limit quantities."""
    wanted = {int(k): int(v) for k, v in lines.items() if int(v) != 0}
    if not wanted:
        raise EmptyOrder()
    offers = {o.pk: o for o in Offer.objects.filter(round=round_, pk__in=wanted)}
    resolved = {}
    for offer_id, quantity in sorted(wanted.items()):
        offer = offers.get(offer_id)
        if offer is None:
            raise UnknownOffer()
        if quantity < 0:
            raise InvalidInput(_("A quantity cannot be negative."))
        if quantity > offer.per_household_limit:
            raise OverLimit(limit=offer.per_household_limit, package=offer.name)
        resolved[offer_id] = (offer, quantity)
    return resolved


def _take_stock(deltas: dict[int, int]) -> None:
    """Apply stock changes with conditional UPDATEs, in offer-id order (no deadlocks)."""
    for offer_id in sorted(deltas):
        delta = deltas[offer_id]
        if delta > 0:
            taken = Offer.objects.filter(pk=offer_id, sold__lte=F("stock_cap") - delta).update(
                sold=F("sold") + delta
            )
            if not taken:
                offer = Offer.objects.get(pk=offer_id)
                raise SoldOut(package=offer.name, remaining=offer.remaining)
        elif delta < 0:
            Offer.objects.filter(pk=offer_id).update(sold=F("sold") + delta)


def _take_round_slot(round_: Round, *, new_order: bool) -> None:
    """Count the order in the round, only while it is open and below capacity.

    The WHERE clause re-checks the state under the row lock, so an order racing
    the cut-off either commits before the round closes or is refused; it is
    the first hot-row write in every ordering transaction, and round changes
    lock the round first too, so the two kinds of writer lock in one order.
    """
    rows = Round.objects.filter(pk=round_.pk, state=Round.State.OPEN)
    if new_order and round_.capacity is not None:
        rows = rows.filter(orders_count__lt=F("capacity"))
    if not rows.update(orders_count=F("orders_count") + (1 if new_order else 0)):
        current = Round.objects.get(pk=round_.pk)
        if current.state != Round.State.OPEN:
            raise RoundNotOpen()
        raise RoundFull()


@transaction.atomic
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
) -> Order:
    """Place a household's order in a round, or replace the lines of its existing order.

    `lines` maps offer id → quantity (0 drops a line). Raises an OrderRefused subclass
    saying why (round not open, not served, cadence, over limit, sold out, round full)
    or NotAllowed; on any refusal nothing is written.
    """
    now = now or timezone.now()
    _check_may_order(
        by=by, api_client=api_client, channel=channel, household=household, round_=round_
    )
    round_ = Round.objects.get(pk=round_.pk)
    _check_open(round_, now)
    _check_round_serves(round_, household)
    resolved = _resolve_lines(round_, lines)
    # Lock the household: its orders from any channel are placed one at a time.
    household = (
        Household.objects.select_for_update().select_related("compound").get(pk=household.pk)
    )
    order = Order.objects.filter(round=round_, household=household).first()
    is_new = order is None or order.state == Order.State.CANCELLED
    if is_new:
        _check_cadence(household, round_, now)
    old_quantities = (
        {}
        if order is None or order.state == Order.State.CANCELLED
        else dict(order.lines.values_list("offer_id", "quantity"))
    )
    new_quantities = {offer_id: qty for offer_id, (_offer, qty) in resolved.items()}
    amount = sum((offer.price * qty for offer, qty in resolved.values()), Decimal("0.00"))

    order_had_lines = order is not None
    if order is None:
        order = Order(
            round=round_,
            household=household,
            compound_id=household.compound_id,
            pickup_code=new_pickup_code(),
        )
    order.channel = channel
    order.entered_by = by
    order.api_client = api_client
    order.state = Order.State.PLACED
    order.amount_due = amount
    order.note = note[:200]
    if is_new:
        order.placed_at = now
    order._history_user = by
    _save_with_unique_pickup_code(order)
    _write_lines(order, resolved, had_lines=order_had_lines)
    # Hot rows last: stock and capacity (see module docstring).
    deltas = {
        k: new_quantities.get(k, 0) - old_quantities.get(k, 0)
        for k in set(new_quantities) | set(old_quantities)
    }
    _take_round_slot(round_, new_order=is_new)
    _take_stock(deltas)
    transaction.on_commit(lambda: round_close_if_done(round_.pk))
    return order


def _write_lines(order: Order, resolved: dict[int, tuple[Offer, int]], *, had_lines: bool) -> None:
    """Write the order's lines: one INSERT for a new order, else drop, update and add."""
    if not had_lines:
        OrderLine.objects.bulk_create(
            [
                OrderLine(order=order, offer_id=offer_id, quantity=qty, unit_price=offer.price)
                for offer_id, (offer, qty) in resolved.items()
            ]
        )
        return
    OrderLine.objects.filter(order=order).exclude(offer_id__in=resolved).delete()
    for offer_id, (offer, qty) in resolved.items():
        OrderLine.objects.update_or_create(
            order=order, offer_id=offer_id, defaults={"quantity": qty, "unit_price": offer.price}
        )


def _save_with_unique_pickup_code(order: Order) -> None:
    """Save, drawing a new pickup code if the random one is already taken in this round."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order.save()
            return
        except IntegrityError:
            if (
                order.pk is not None
                or Order.objects.filter(round=order.round_id, household=order.household_id).exists()
            ):
                raise
            order.pickup_code = new_pickup_code()
    raise IntegrityError("could not draw a free pickup code")


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
        by=by, api_client=api_client, channel=channel, household=order.household, round_=order.round
    )
    Household.objects.select_for_update().filter(pk=order.household_id).first()
    order = Order.objects.select_related("round").get(pk=order.pk)
    if order.state == Order.State.CANCELLED:
        return order
    _check_open(order.round, now)
    _release(order, by=by)
    return order


def _release(order: Order, *, by: User | None) -> None:
    """Cancel one order and give back its stock; locks order → round → offers, like placing."""
    deltas = {offer_id: -qty for offer_id, qty in order.lines.values_list("offer_id", "quantity")}
    order.state = Order.State.CANCELLED
    order._history_user = by
    order.save(update_fields=["state", "updated_at"])
    Round.objects.filter(pk=order.round_id).update(orders_count=F("orders_count") - 1)
    _take_stock(deltas)


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
