"""Reads of rounds, offers and orders that pages, exports and the API share.

Each function owns its select_related/prefetch_related, so callers do not grow
N+1 loops. Nothing here raises Http404: a missing row is None or an empty
queryset, and the view decides what that means.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    Count,
    DecimalField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from baogong.areas.addresses import (
    AddressError,
    building_key,
    normalize_text,
    parse_address,
    room_key,
)
from baogong.areas.models import Area, Household, Resident
from baogong.areas.queries import natural_key
from baogong.core.phones import PhoneError, mask_phone, normalize_phone
from baogong.orders.models import Offer, Order, OrderLine, Round, RoundArea
from baogong.supply.models import PackageLine

if TYPE_CHECKING:
    from baogong.accounts.scoping import Scope

# --- helpers ------------------------------------------------------------------------------


def path_prefixes(path: str) -> list[str]:
    """Every ancestor-or-self path of a materialised path: "/1/7/42/" → ["/1/", "/1/7/", …]."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# --- households ---------------------------------------------------------------------------


def resident_households(scope: Scope) -> QuerySet[Household]:
    """The households the user holds a resident grant for (a superuser has none of their own)."""
    return (
        Household.objects.filter(pk__in=scope.household_ids)
        .select_related("building", "compound")
        .order_by("pk")
    )


# --- rounds -------------------------------------------------------------------------------


def rounds_serving(household: Household) -> QuerySet[Round]:
    """Rounds past draft whose areas hold the household's building (any state but draft).

    A round area serves a household when its path is a prefix of the building's path;
    the prefixes are computed here so the database does an indexed `IN`, not a LIKE per row.
    Needs `household.building` (select it with the household).
    """
    round_ids = RoundArea.objects.filter(
        area__path__in=path_prefixes(household.building.path)
    ).values("round_id")
    return (
        Round.objects.filter(pk__in=round_ids)
        .exclude(state=Round.State.DRAFT)
        .select_related("supplier")
    )


def open_rounds_for_household(
    household: Household, *, now: dt.datetime | None = None
) -> QuerySet[Round]:
    """Rounds taking orders from this household right now, the soonest cut-off first."""
    now = now or timezone.now()
    return (
        rounds_serving(household)
        .filter(state=Round.State.OPEN, opens_at__lte=now, cutoff_at__gt=now)
        .order_by("cutoff_at", "pk")
    )


def round_is_open(round_: Round, *, now: dt.datetime | None = None) -> bool:
    """Whether the round takes orders now (the rule order_place enforces, for display)."""
    now = now or timezone.now()
    return round_.state == Round.State.OPEN and round_.opens_at <= now < round_.cutoff_at


# --- offers -------------------------------------------------------------------------------


def round_offers(round_: Round) -> QuerySet[Offer]:
    """A round's offers in display order, with each package and its contents lines."""
    return (
        Offer.objects.filter(round=round_)
        .select_related("package")
        .prefetch_related(
            Prefetch("package__lines", queryset=PackageLine.objects.order_by("position", "pk"))
        )
        .order_by("position", "pk")
    )


# --- orders -------------------------------------------------------------------------------


def _with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    lines = OrderLine.objects.select_related("offer").order_by("offer__position", "offer_id")
    return orders.prefetch_related(Prefetch("lines", queryset=lines))


def household_orders(household_ids: Iterable[int]) -> QuerySet[Order]:
    """Orders of these households, newest first, with round, supplier, address and lines."""
    return _with_lines(
        Order.objects.filter(household_id__in=list(household_ids))
        .select_related("round__supplier", "household__building")
        .order_by("-placed_at", "-pk")
    )


def household_round_order(round_: Round, household: Household) -> Order | None:
    """The household's order in this round (placed or cancelled) with its lines, or None."""
    orders = Order.objects.filter(round=round_, household=household).select_related("round")
    return _with_lines(orders).first()


def ordered_round_ids(household: Household, round_ids: Iterable[int]) -> set[int]:
    """Which of these rounds the household has a live (not cancelled) order in."""
    return set(
        Order.objects.filter(
            household=household, round_id__in=list(round_ids), state=Order.State.PLACED
        ).values_list("round_id", flat=True)
    )


# --- rounds pages: liaison, staff and supplier (views/rounds.py, views/proxy.py, exports) ---
# Who sees a round: its supplier's users, and staff whose subtree and the round's areas
# meet (a round area under their node, or their node under a round area). Orders and
# households inside a round are narrowed further: the supplier sees every order of its
# round, staff only the households their grants reach (HOUSEHOLD_ROLES).


def rounds_for(scope: Scope) -> QuerySet[Round]:
    """Rounds the user may see (not yet ordered or annotated)."""
    from baogong.accounts.scoping import BROWSE_ROLES

    if scope.superuser:
        return Round.objects.all()
    visible = Q(supplier_id__in=sorted(scope.supplier_ids))
    paths = scope.paths_for(BROWSE_ROLES)
    if paths:
        # Round area at or above the user's node: an exact path match on its prefixes.
        meets = Q(area__path__in={p for path in paths for p in path_prefixes(path)})
        for path in paths:  # round area below the user's node
            meets |= Q(area__path__startswith=path)
        visible |= Q(pk__in=RoundArea.objects.filter(meets).values("round_id"))
    return Round.objects.filter(visible)


def round_list_rows(rounds: QuerySet[Round]) -> QuerySet[Round]:
    """Rounds with supplier, areas, `money_due` (placed orders' amounts) and the count of
    placed orders (with_orders_total), newest first."""
    money = (
        Order.objects.filter(round=OuterRef("pk"), state=Order.State.PLACED)
        .values("round")
        .annotate(total=Sum("amount_due"))
        .values("total")
    )
    zero = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))
    return with_orders_total(
        rounds.select_related("supplier")
        .prefetch_related(
            Prefetch(
                "round_areas",
                queryset=RoundArea.objects.select_related("area").order_by("area__path"),
            )
        )
        .annotate(money_due=Coalesce(Subquery(money), zero))
        .order_by("-opens_at", "-pk")
    )


def with_orders_total(rounds: QuerySet[Round]) -> QuerySet[Round]:
    """Rounds with `live_orders` annotated, which Round.orders_total reads.

    Counted on read: a round without a capacity does not count its orders as they are
    placed (see Round.orders_count).
    """
    live = (
        Order.objects.filter(round=OuterRef("pk"), state=Order.State.PLACED)
        .order_by()
        .values("round")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return rounds.annotate(live_orders=Coalesce(Subquery(live), 0))


def round_for(scope: Scope, pk: int) -> Round | None:
    """One round the user may see, with its supplier and areas, or None."""
    try:
        return round_list_rows(rounds_for(scope)).get(pk=pk)
    except (Round.DoesNotExist, ValueError, TypeError):
        return None


def round_area_list(round_: Round) -> list[Area]:
    """The round's areas (uses the prefetch of round_list_rows when there is one)."""
    return [ra.area for ra in round_.round_areas.all()]


def round_compound_ids(round_: Round) -> list[int]:
    """Compounds the round serves: its compounds and those of its whole communities."""
    under = Q(pk__in=[])
    for area in round_area_list(round_):
        under |= Q(path__startswith=area.path)
    return list(Area.objects.filter(under, kind=Area.Kind.COMPOUND).values_list("pk", flat=True))


def sees_all_orders(scope: Scope, round_: Round) -> bool:
    """The supplier (and a superuser) sees every order of its round; staff their reach."""
    return scope.superuser or round_.supplier_id in scope.supplier_ids


def round_reach(scope: Scope, round_: Round, compound_ids: list[int]) -> QuerySet[Household]:
    """Households of the round's compounds that the user works with (HOUSEHOLD_ROLES)."""
    return scope.households().filter(compound_id__in=compound_ids)


def round_orders(scope: Scope, round_: Round, compound_ids: list[int]) -> QuerySet[Order]:
    """The round's placed orders the user may read, with address and who entered them."""
    orders = Order.objects.filter(round=round_, state=Order.State.PLACED)
    if not sees_all_orders(scope, round_):
        orders = orders.filter(household__in=round_reach(scope, round_, compound_ids))
    return orders.select_related(
        "household__building", "household__compound", "entered_by", "api_client"
    )


@dataclass
class OfferCount:
    code: str
    name: str
    price: Decimal
    sold: int
    stock_cap: int

    @property
    def remaining(self) -> int:
        return self.stock_cap - self.sold


@dataclass
class BuildingCount:
    compound: str
    building: str
    households: int = 0
    orders: int = 0
    units: int = 0


@dataclass
class RoundCounts:
    """Live figures of one round, each from one grouped query."""

    offers: list[OfferCount]
    buildings: list[BuildingCount]
    orders: int
    households: int
    money_due: Decimal
    channels: list[tuple[str, int, Decimal]]  # label, orders, amount
    capacity_left: int | None = None
    many_compounds: bool = False

    @property
    def version(self) -> str:
        """Changes whenever a shown figure changes: lets a poll answer "nothing new"."""
        return hashlib.sha1(repr(self).encode(), usedforsecurity=False).hexdigest()[:16]


def round_counts(round_: Round, compound_ids: list[int]) -> RoundCounts:
    """Per package, per building, per channel counts and the money due (5 queries)."""
    offers = [
        OfferCount(code, name, price, sold, cap)
        for code, name, price, sold, cap in Offer.objects.filter(round=round_)
        .order_by("position", "pk")
        .values_list("code", "name", "price", "sold", "stock_cap")
    ]
    placed = Order.objects.filter(round=round_, state=Order.State.PLACED)
    buildings = {
        pk: BuildingCount(compound=compound, building=name)
        for pk, name, compound in Area.objects.filter(
            kind=Area.Kind.BUILDING, parent_id__in=compound_ids
        ).values_list("pk", "name", "parent__name")
    }
    for building_id, n in (
        Household.objects.filter(compound_id__in=compound_ids)
        .values("building_id")
        .annotate(n=Count("pk"))
        .values_list("building_id", "n")
    ):
        if building_id in buildings:
            buildings[building_id].households = n
    for building_id, n in (
        placed.values("household__building_id")
        .annotate(n=Count("pk"))
        .values_list("household__building_id", "n")
    ):
        if building_id in buildings:
            buildings[building_id].orders = n
    for building_id, units in (
        OrderLine.objects.filter(order__in=placed)
        .values("order__household__building_id")
        .annotate(units=Sum("quantity"))
        .values_list("order__household__building_id", "units")
    ):
        if building_id in buildings:
            buildings[building_id].units = units or 0
    labels = dict(Order.Channel.choices)
    channels = [
        (str(labels.get(channel, channel)), n, amount or Decimal("0.00"))
        for channel, n, amount in placed.values("channel")
        .annotate(n=Count("pk"), amount=Sum("amount_due"))
        .values_list("channel", "n", "amount")
        .order_by("channel")
    ]
    rows = sorted(
        buildings.values(), key=lambda b: (natural_key(b.compound), natural_key(b.building))
    )
    orders = sum(n for _label, n, _amount in channels)
    return RoundCounts(
        offers=offers,
        buildings=[b for b in rows if b.households or b.orders],
        orders=orders,
        households=sum(b.households for b in rows),
        money_due=sum((amount for _label, _n, amount in channels), Decimal("0.00")),
        channels=channels,
        capacity_left=None if round_.capacity is None else max(round_.capacity - orders, 0),
        many_compounds=len(compound_ids) > 1,
    )


@dataclass
class ChaseHousehold:
    """A household to phone: where it is and the number the user may see."""

    pk: int
    place: str  # entrance and room within the building: "2单元502"
    address: str  # with the building: "3号楼2单元502"
    phone: str  # full or masked, as the user may see it; "" if none
    full_phone: bool
    ordered_elsewhere_at: dt.datetime | None  # a live order in another round, inside cadence


@dataclass
class ChaseBuilding:
    """One building's households that have not ordered in the round yet."""

    building_id: int
    compound: str
    building: str
    count: int
    households: list[ChaseHousehold] | None = None  # None until asked for (they can be many)


def _not_ordered(scope: Scope, round_: Round, compound_ids: list[int]) -> QuerySet[Household]:
    ordered = Order.objects.filter(round=round_, state=Order.State.PLACED).values("household_id")
    return round_reach(scope, round_, compound_ids).exclude(pk__in=ordered)


def round_chase_buildings(
    scope: Scope, round_: Round, compound_ids: list[int]
) -> list[ChaseBuilding]:
    """Per building, how many households in the user's reach have not ordered (1 query)."""
    rows = (
        _not_ordered(scope, round_, compound_ids)
        .values("building_id", "building__name", "compound__name")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("building_id", "compound__name", "building__name", "n")
    )
    groups = [ChaseBuilding(pk, compound, name, n) for pk, compound, name, n in rows]
    return sorted(groups, key=lambda g: (natural_key(g.compound), natural_key(g.building)))


def round_not_ordered(
    scope: Scope,
    round_: Round,
    compound_ids: list[int],
    building_id: int,
    *,
    now: dt.datetime | None = None,
) -> list[ChaseHousehold]:
    """One building's households in the user's reach with no live order in the round,
    by entrance and room (2 queries).

    `ordered_elsewhere_at` is the time of a live order in another round inside the
    compound's cadence window: such a household cannot order now, so chasing it is
    pointless.
    """
    from baogong.accounts.scoping import FULL_PHONE_ROLES

    now = now or timezone.now()
    households = _not_ordered(scope, round_, compound_ids).filter(building_id=building_id)
    rows = list(
        households.values_list(
            "pk", "unit", "room", "phone", "building__name", "building__path",
            "compound__cadence_days",
        )
    )  # fmt: skip
    if not rows:
        return []
    cadence = rows[0][6]
    recent: dict[int, dt.datetime] = {}
    if cadence:
        recent = dict(
            Order.objects.filter(
                household__in=households.values("pk"),
                state=Order.State.PLACED,
                placed_at__gt=now - dt.timedelta(days=cadence),
            )
            .exclude(round=round_)
            .values("household_id")
            .annotate(last=Max("placed_at"))
            .values_list("household_id", "last")
        )
    # The rule of Scope.sees_full_phone, once for the building (staff see by their subtree).
    path = rows[0][5]
    full = scope.superuser or any(path.startswith(p) for p in scope.paths_for(FULL_PHONE_ROLES))
    found = []
    for pk, unit, room, phone, building, _path, _cadence in rows:
        place = f"{unit}单元{room}" if unit else room
        found.append(
            ChaseHousehold(
                pk=pk,
                place=place,
                address=f"{building}{place}",
                phone=phone if full else mask_phone(phone),
                full_phone=full,
                ordered_elsewhere_at=recent.get(pk),
            )
        )
    found.sort(key=lambda h: natural_key(h.place))
    return found


def round_recent_orders(
    scope: Scope, round_: Round, compound_ids: list[int], *, limit: int = 10
) -> list[Order]:
    """The latest orders the user may read, newest change first."""
    return list(round_orders(scope, round_, compound_ids).order_by("-updated_at", "-pk")[:limit])


def round_export_rows(
    scope: Scope, round_: Round, compound_ids: list[int]
) -> tuple[list[Order], dict[int, dict[int, int]]]:
    """Orders in packing order (compound, building, entrance, room) and their quantities
    as {order id: {offer id: quantity}} (2 queries)."""
    orders = list(round_orders(scope, round_, compound_ids))
    orders.sort(
        key=lambda o: (
            natural_key(o.household.compound.name),
            natural_key(o.household.building.name),
            natural_key(o.household.unit),
            natural_key(o.household.room),
        )
    )
    quantities: dict[int, dict[int, int]] = {}
    for order_id, offer_id, quantity in OrderLine.objects.filter(
        order__in=[o.pk for o in orders]
    ).values_list("order_id", "offer_id", "quantity"):
        quantities.setdefault(order_id, {})[offer_id] = quantity
    return orders, quantities


# --- proxy orders: finding the household of a caller -----------------------------------

PROXY_SEARCH_LIMIT = 12
_BUILDING_ONLY = re.compile(
    r"^(?:第)?(?:[A-Za-z]?\d+[A-Za-z]?|[A-Za-z]|[零〇一二两三四五六七八九十百]+)"
    r"(?:号楼|号|栋|幢|座|楼|#)$"
)


def proxy_households(scope: Scope, compound_ids: list[int]) -> QuerySet[Household]:
    """Households of the round's compounds the user may order for (PROXY_ROLES)."""
    from baogong.accounts.scoping import PROXY_ROLES

    return scope.households(PROXY_ROLES).filter(compound_id__in=compound_ids)


def proxy_search(
    scope: Scope, round_: Round, compound_ids: list[int], text: str
) -> tuple[list[Household], bool]:
    """Households matching what a caller says, in the round and the user's reach.

    One box takes an address ("3-2-502", "3号楼502", "3栋2单元502"), a building ("3号楼"),
    a room ("502"), a phone (full, or its last 4 digits, which may also be a room) or a
    resident's name. Returns up to PROXY_SEARCH_LIMIT households and whether there are more.
    Each household has `order_id` set when it already has a live order in the round.
    """
    households = proxy_households(scope, compound_ids)
    match = _proxy_match(compound_ids, normalize_text(text).replace(" ", ""))
    if match is None:
        return [], False
    live = Order.objects.filter(
        round=round_, household=OuterRef("pk"), state=Order.State.PLACED
    ).values("pk")
    found = list(
        households.filter(match)
        .annotate(order_id=Subquery(live[:1]))
        .select_related("building", "compound")
        .order_by("compound__name", "building__name", "unit", "room", "pk")[
            : PROXY_SEARCH_LIMIT + 1
        ]
    )
    return found[:PROXY_SEARCH_LIMIT], len(found) > PROXY_SEARCH_LIMIT


def _proxy_match(compound_ids: list[int], text: str) -> Q | None:
    if not text:
        return None
    try:
        address = parse_address(text)
    except AddressError:
        address = None
    if address is not None:
        q = Q(
            building_id__in=_buildings_with_key(compound_ids, address.building), room=address.room
        )
        return q & Q(unit=address.unit) if address.unit else q
    if _BUILDING_ONLY.match(text):
        return Q(building_id__in=_buildings_with_key(compound_ids, building_key(text)))
    digits = text.replace("-", "")
    if digits.isdigit() and len(digits) >= 7:
        try:
            phone = normalize_phone(text)
        except PhoneError:
            return Q(phone__endswith=digits) | Q(phone_alt__endswith=digits)
        return (
            Q(phone=phone)
            | Q(phone_alt=phone)
            | Q(pk__in=Resident.objects.filter(phone=phone).values("household_id"))
        )
    if text.isdigit() and len(text) == 4:  # a phone's last 4 digits, or a room like 1203
        return (
            Q(room=text)
            | Q(phone__endswith=text)
            | Q(phone_alt__endswith=text)
            | Q(pk__in=Resident.objects.filter(phone__endswith=text).values("household_id"))
        )
    try:
        return Q(room=room_key(text))
    except AddressError:
        pass
    if len(text) >= 2 or not text.isascii():  # a name: 王秀英, 王
        return Q(pk__in=Resident.objects.filter(name__contains=text).values("household_id"))
    return None


def _buildings_with_key(compound_ids: list[int], key: str) -> list[int]:
    """Buildings of these compounds whose name has this key ("3号楼", "3栋" → "3")."""
    key = key.upper()
    return [
        pk
        for pk, name in Area.objects.filter(
            kind=Area.Kind.BUILDING, parent_id__in=compound_ids
        ).values_list("pk", "name")
        if building_key(name) == key
    ]
