"""Reads behind the distribution reports: coverage, who has not received, the district
summary by source, and the bag ledger (received = distributed + on hand) per compound.

Counts are aggregated in the database per building and rolled up the area tree in
Python through the materialised paths, so a 50,000-household street costs a handful
of queries. Everything is cut to what the reader's grants reach; household rows
(`not_received`) are only for roles that work with households — the bureau sees
counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.accounts.scoping import HOUSEHOLD_ROLES, Scope
from baogong.areas.models import Area, Household
from baogong.areas.queries import natural_key
from baogong.core.errors import NotFound
from baogong.distributions.models import Allocation, Distribution
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.requisitions.models import DistributionEntry

# Who reads the reports: organisers above the compounds, and the bureau (counts only).
REPORT_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.BUREAU_STAFF}
)
# Who may see households on them (names of rooms, phones): the register keepers.
PERSONAL_ROLES = REPORT_ROLES & HOUSEHOLD_ROLES


def _under(scope: Scope, prefix: str) -> Q | None:
    """Rows whose `<prefix>path` lies under one of the reader's report grants (None: none)."""
    if scope.superuser:
        return Q()
    paths = scope.paths_for(REPORT_ROLES)
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def distributions_for(scope: Scope) -> QuerySet[Distribution]:
    """Distributions whose organiser lies under, or above, one of the reader's grants."""
    qs = Distribution.objects.select_related("organiser", "allocation_order")
    if scope.superuser:
        return qs
    q = Q()
    for path in scope.paths_for(REPORT_ROLES):
        # A community's staff follow their part of a street's distribution.
        ancestors = {path[: i + 1] for i, c in enumerate(path) if c == "/" and i}
        q |= Q(organiser__path__startswith=path) | Q(organiser__path__in=ancestors)
    return qs.filter(q) if q else qs.none()


def distribution_for(scope: Scope, pk: int) -> Distribution:
    try:
        return distributions_for(scope).get(pk=pk)
    except (Distribution.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def report_top(scope: Scope, distribution: Distribution, area_pk: object = None) -> Area:
    """The area a report starts from: the organiser, or the reader's own part of it.

    `area_pk` drills down; it must lie under the organiser and within the reader's grants.
    """
    organiser = distribution.organiser
    inside = _under(scope, "")
    if inside is None:
        raise NotFound()
    areas = Area.objects.filter(inside, path__startswith=organiser.path)
    if area_pk not in (None, ""):
        try:
            return areas.get(pk=area_pk)
        except (Area.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
    top = areas.order_by("path").first()
    if top is None:
        raise NotFound()
    return top


def report_trail(scope: Scope, distribution: Distribution, top: Area) -> list[Area]:
    """The areas from the reader's starting point down to `top`, for the breadcrumbs."""
    start = report_top(scope, distribution)
    ids = [i for i in top.ancestor_ids if i not in start.ancestor_ids]
    return list(Area.objects.filter(pk__in=ids).order_by("path"))


def sees_households(scope: Scope, area: Area) -> bool:
    """Whether the reader may see household rows under `area` (not the bureau)."""
    return scope.superuser or any(area.path.startswith(p) for p in scope.paths_for(PERSONAL_ROLES))


# --- coverage --------------------------------------------------------------------------


@dataclass
class CoverageRow:
    area: Area
    targeted: int = 0
    reached: int = 0
    by_day: dict[dt.date, int] = field(default_factory=dict)
    cells: list[int] = field(default_factory=list)  # by_day in the columns of Coverage.days

    @property
    def percent(self) -> int:
        return round(100 * self.reached / self.targeted) if self.targeted else 0


@dataclass
class Coverage:
    top: Area
    rows: list[CoverageRow]
    total: CoverageRow
    days: list[dt.date]


def coverage(distribution: Distribution, top: Area) -> Coverage:
    """Households reached (bag handed over) / targeted (allocated, waiting list included)
    per child area of `top`, with the handovers of each day."""
    targeted = dict(
        Allocation.objects.filter(distribution=distribution, building__path__startswith=top.path)
        .values_list("building_id")
        .annotate(n=Count("pk"))
    )
    reached_by_day = (
        Handover.objects.filter(
            bag__distribution=distribution, bag__building__path__startswith=top.path
        )
        .annotate(day=TruncDate("handed_at", tzinfo=timezone.get_current_timezone()))
        .values_list("bag__building_id", "day")
        .annotate(n=Count("pk"))
    )
    buildings = set(targeted) | {b for b, _day, _n in reached_by_day}
    paths = dict(Area.objects.filter(pk__in=buildings).values_list("pk", "path"))
    depth = top.path.count("/")
    children = {a.pk: CoverageRow(a) for a in Area.objects.filter(parent=top)}
    total = CoverageRow(top)

    def rows_of(building_id: int) -> list[CoverageRow]:
        parts = paths.get(building_id, "").strip("/").split("/")
        child = int(parts[depth - 1]) if len(parts) >= depth else None
        return [total, *([children[child]] if child in children else [])]

    for building_id, n in targeted.items():
        for row in rows_of(building_id):
            row.targeted += n
    for building_id, day, n in reached_by_day:
        for row in rows_of(building_id):
            row.reached += n
            row.by_day[day] = row.by_day.get(day, 0) + n
    rows = sorted(
        (r for r in children.values() if r.targeted or r.reached),
        key=lambda r: natural_key(r.area.name),
    )
    days = sorted(total.by_day)
    for row in [*rows, total]:
        row.cells = [row.by_day.get(day, 0) for day in days]
    return Coverage(top=top, rows=rows, total=total, days=days)


# --- who has not received --------------------------------------------------------------


@dataclass(frozen=True)
class Unreached:
    household: Household
    reason: str
    pickup_code: str = ""
    packs: int = 0
    door_delivery: bool = False
    follow_up: str = ""


def _past_last_slot(distribution: Distribution, now: dt.datetime) -> list[int]:
    """Deliveries whose pickup is over: closed, or every slot ended before `now`."""
    deliveries = Delivery.objects.filter(distribution=distribution).annotate(
        last_end=Max("slots__ends_at")
    )
    return [
        d.pk
        for d in deliveries
        if d.state == Delivery.State.DONE or (d.last_end is not None and d.last_end <= now)
    ]


def not_received(
    distribution: Distribution, top: Area, *, now: dt.datetime | None = None
) -> list[Unreached]:
    """Households of `top` without their bag: still waiting or uncollected after the
    delivery's last slot, missing at the gate, or on the waiting list (stock short)."""
    now = now or timezone.now()
    bags = (
        Bag.objects.filter(distribution=distribution, building__path__startswith=top.path)
        .filter(
            Q(state=Bag.State.UNCOLLECTED)
            | Q(state=Bag.State.WAITING, delivery__in=_past_last_slot(distribution, now))
            | Q(gate_state=Bag.GateState.MISSING, handover__isnull=True)
        )
        .select_related("household__building", "household__compound")
    )
    rows = []
    for bag in bags:
        if bag.gate_state == Bag.GateState.MISSING:
            reason = _("missing at the gate")
        elif bag.state == Bag.State.UNCOLLECTED:
            reason = _("not collected after the last slot")
        else:
            reason = _("still waiting after the last slot")
        rows.append(
            Unreached(
                bag.household,
                str(reason),
                bag.pickup_code,
                bag.packs,
                bag.door_delivery,
                bag.get_follow_up_display() if bag.follow_up else "",
            )
        )
    waiting = Allocation.objects.filter(
        distribution=distribution,
        state=Allocation.State.WAITING,
        building__path__startswith=top.path,
    ).select_related("household__building", "household__compound", "served_in")
    for allocation in waiting:
        reason = _("waiting list (stock short)")
        if allocation.served_in_id:
            reason = _("waiting list, served by %(batch)s") % {"batch": allocation.served_in}
        rows.append(Unreached(allocation.household, str(reason), packs=allocation.packs))
    rows.sort(key=lambda r: _household_key(r.household))
    return rows


def _household_key(household: Household) -> tuple:
    return (
        natural_key(household.compound.name),
        natural_key(household.building.name),
        natural_key(household.unit),
        natural_key(household.room),
    )


def not_received_counts(rows: list[Unreached]) -> list[tuple[str, str, str, int]]:
    """The anonymised view: (compound, building, reason, households), no rooms or phones."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        counts[(row.household.compound.name, row.household.building.name, row.reason)] += 1
    return [(*key, n) for key, n in counts.items()]


# --- summary by source -----------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    source: str
    donor: str
    distributions: int
    households: int
    packs: int

    @property
    def source_label(self) -> str:
        return str(Distribution.Source(self.source).label)


def summary_by_source(scope: Scope) -> list[SourceRow]:
    """Packages handed over (households, packs) per source — reserve, allocation order,
    donation per donor — over the bags within the reader's grants."""
    inside = _under(scope, "building__")
    if inside is None:
        return []
    rows = (
        Bag.objects.filter(inside, distribution__isnull=False, handover__isnull=False)
        .values_list("distribution__source", "distribution__donor_name")
        .annotate(
            distributions=Count("distribution", distinct=True),
            households=Count("pk"),
            total=Sum("packs"),
        )
        .order_by("distribution__source", "distribution__donor_name")
    )
    return [SourceRow(source, donor or "", d, h, p or 0) for source, donor, d, h, p in rows]


# --- the bag ledger: received = distributed + on hand -----------------------------------


@dataclass
class LedgerRow:
    compound: Area
    received: int = 0  # packs in bags received at the gate, ordered and free
    received_free: int = 0
    distributed: int = 0  # packs on ledger lines of handed-over bags
    on_hand: int = 0  # packs in received bags not handed over yet

    @property
    def balanced(self) -> bool:
        return self.received == self.distributed + self.on_hand


def bag_ledger(compounds: QuerySet[Area]) -> list[LedgerRow]:
    """Per compound, in packs: received at the gate = distributed (ledger lines of
    handed-over bags) + on hand. Ordered and free bags alike; three aggregate queries."""
    rows = {c.pk: LedgerRow(c) for c in compounds}
    received = Bag.objects.filter(
        delivery__compound__in=rows, gate_state=Bag.GateState.RECEIVED
    ).values_list("delivery__compound_id")
    for compound_id, packs, free in received.annotate(
        total=Sum("packs"), free=Sum("packs", filter=Q(distribution__isnull=False))
    ):
        rows[compound_id].received = packs or 0
        rows[compound_id].received_free = free or 0
    for compound_id, packs in received.filter(handover__isnull=True).annotate(total=Sum("packs")):
        rows[compound_id].on_hand = packs or 0
    distributed = (
        DistributionEntry.objects.filter(bag__isnull=False, from_area__in=rows)
        .values_list("from_area_id")
        .annotate(total=Sum("quantity"))
    )
    for compound_id, total in distributed:
        rows[compound_id].distributed = int(total or 0)
    return sorted(rows.values(), key=lambda r: natural_key(r.compound.name))


def distribution_compounds(distribution: Distribution, top: Area) -> QuerySet[Area]:
    """The compounds under `top` that this distribution delivers to."""
    return Area.objects.filter(
        pk__in=Delivery.objects.filter(distribution=distribution).values("compound"),
        path__startswith=top.path,
    )
