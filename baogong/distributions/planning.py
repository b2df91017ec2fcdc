"""Who gets what from a free distribution, before anything is packed.

`allocate` is a pure function over plain rows: it sizes each household's allocation by
the rule, puts households in the stated order of priority, and serves them while each
package lasts. `distribution_plan` loads the rows for a distribution (a handful of
`values_list` queries, no per-household query) and calls it.

The stated rule for a shortfall: households on an earlier batch's waiting list first,
then sealed buildings and households and special groups, then everyone else; within a
class, by compound and building in natural order (3号楼 before 10号楼), entrance, room.
When a package runs short, the first household it cannot cover and everyone after them
in that order waits for the next batch: nobody is skipped for a later household, and
nobody is cut silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from baogong.areas.addresses import AddressError, room_key, unit_key
from baogong.areas.models import Area, Containment, Household, Resident
from baogong.areas.queries import natural_key
from baogong.distributions.models import Allocation, Distribution
from baogong.welfare.models import SpecialCare

WAITING_LIST = Allocation.Priority.WAITING_LIST.value
SEALED_OR_SPECIAL = Allocation.Priority.SEALED_OR_SPECIAL.value
OTHER = Allocation.Priority.OTHER.value

# Why a household cannot be served until its record is fixed.
NO_ROOM, DUPLICATE = "no_room", "duplicate"


def unservable_reasons() -> dict[str, str]:
    return {
        NO_ROOM: _("no room on record"),
        DUPLICATE: _("same address as another household"),
    }


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    """What the plan needs to know about one household."""

    id: int
    compound_id: int
    building_id: int
    unit: str
    room: str
    members: int
    sealed: bool = False
    special: bool = False
    waiting: bool = False  # on the waiting list of the batch this one serves first
    # Sort key of the household's place: compound, building, entrance, room.
    order: tuple = ()


@dataclass(frozen=True, slots=True)
class Band:
    min_members: int
    max_members: int | None
    packs: int

    def covers(self, members: int) -> bool:
        return members >= self.min_members and (
            self.max_members is None or members <= self.max_members
        )


@dataclass(frozen=True)
class Rules:
    default_package: int
    stock: dict[int, int]  # package id → packs available
    bands: tuple[Band, ...] = ()  # empty: one pack per household
    special_package: int | None = None
    special_extra: int = 0


@dataclass(frozen=True, slots=True)
class Line:
    """One servable household's allocation, in rank order."""

    household_id: int
    compound_id: int
    building_id: int
    package_id: int
    packs: int
    special: bool
    priority: int
    rank: int
    served: bool


@dataclass(frozen=True, slots=True)
class Unservable:
    household_id: int
    compound_id: int
    building_id: int
    unit: str
    room: str
    reason: str  # NO_ROOM or DUPLICATE


@dataclass
class Shortfall:
    """A package that does not reach everyone: how many wait, from which rank on."""

    package_id: int
    available: int
    needed: int
    first_rank_left_out: int
    households_left_out: int
    unused: int  # packs left over that the next household in line needs more than


@dataclass
class Plan:
    lines: list[Line]
    unservable: list[Unservable]
    stock: dict[int, int]
    shortfalls: list[Shortfall] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # area id → name, for pages

    @property
    def served(self) -> list[Line]:
        return [line for line in self.lines if line.served]

    @property
    def left_out(self) -> list[Line]:
        return [line for line in self.lines if not line.served]

    def packs_needed(self) -> Counter:
        return _sum(self.lines, lambda x: x.package_id)

    def packs_allocated(self) -> Counter:
        return _sum(self.served, lambda x: x.package_id)


def _sum(lines: Iterable[Line], key) -> Counter:
    total: Counter = Counter()
    for line in lines:
        total[key(line)] += line.packs
    return total


def _address_key(row: HouseholdRow) -> tuple[int, str, str]:
    """Building, entrance and room normalised: "2单元" = "2", "０５０２室" = "502"."""

    def clean(text: str, parse) -> str:
        try:
            value = parse(text)
        except AddressError:
            value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
        return value.lstrip("0") or value

    return (row.building_id, clean(row.unit, unit_key), clean(row.room, room_key))


def split_unservable(rows: Sequence[HouseholdRow]) -> tuple[list[HouseholdRow], list[Unservable]]:
    """Households with no room, or sharing a normalised address, are set aside to be fixed."""
    keys = {row.id: _address_key(row) for row in rows if row.room.strip()}
    counts = Counter(keys.values())
    servable, unservable = [], []
    for row in rows:
        reason = None
        if not row.room.strip():
            reason = NO_ROOM
        elif counts[keys[row.id]] > 1:
            reason = DUPLICATE
        if reason is None:
            servable.append(row)
        else:
            unservable.append(
                Unservable(row.id, row.compound_id, row.building_id, row.unit, row.room, reason)
            )
    unservable.sort(
        key=lambda u: (u.compound_id, u.building_id, natural_key(u.unit), natural_key(u.room))
    )
    return servable, unservable


def priority_of(row: HouseholdRow) -> int:
    if row.waiting:
        return WAITING_LIST
    if row.sealed or row.special:
        return SEALED_OR_SPECIAL
    return OTHER


def packs_for(members: int, bands: Sequence[Band]) -> int | None:
    if not bands:
        return 1
    for band in bands:
        if band.covers(members):
            return band.packs
    return None


def allocate(rows: Sequence[HouseholdRow], rules: Rules) -> Plan:
    """Size, rank and serve the households of `rows` (see the module's stated rule)."""
    servable, unservable = split_unservable(rows)
    ordered = sorted(servable, key=lambda r: (priority_of(r), r.order, r.id))
    left = dict(rules.stock)
    cut: dict[int, int] = {}  # package → first rank it could not cover
    lines = []
    for rank, row in enumerate(ordered, start=1):
        packs = packs_for(row.members, rules.bands) or 1
        package = rules.default_package
        if row.special:
            packs += rules.special_extra
            package = rules.special_package or package
        served = package not in cut and left.get(package, 0) >= packs
        if served:
            left[package] -= packs
        else:
            cut.setdefault(package, rank)
        lines.append(
            Line(
                row.id,
                row.compound_id,
                row.building_id,
                package,
                packs,
                row.special,
                priority_of(row),
                rank,
                served,
            )
        )
    plan = Plan(lines=lines, unservable=unservable, stock=dict(rules.stock))
    needed = plan.packs_needed()
    for package, rank in sorted(cut.items()):
        out = [line for line in lines if line.package_id == package and not line.served]
        plan.shortfalls.append(
            Shortfall(
                package,
                rules.stock.get(package, 0),
                needed[package],
                rank,
                len(out),
                left.get(package, 0),
            )
        )
    return plan


# --- loading a distribution's rows -------------------------------------------------------


def target_households(distribution: Distribution):
    """The households under any of the distribution's target areas."""
    paths = list(distribution.targets.values_list("path", flat=True))
    if not paths:
        return Household.objects.none()
    q = Q()
    for path in paths:
        q |= Q(building__path__startswith=path)
    return Household.objects.filter(q)


def special_household_ids(households) -> set[int]:
    """Households with a special-group resident, one needing door delivery, or on the welfare
    special-care register."""
    flagged = Resident.objects.filter(household__in=households).filter(
        Q(special_group=True) | Q(needs_door_delivery=True)
    )
    cared = SpecialCare.objects.filter(household__in=households, active=True)
    return set(flagged.values_list("household_id", flat=True)) | set(
        cared.values_list("household_id", flat=True)
    )


def household_rows(distribution: Distribution) -> tuple[list[HouseholdRow], dict[int, str]]:
    households = target_households(distribution)
    special = special_household_ids(households)
    waiting: set[int] = set()
    if distribution.waiting_from_id:
        waiting = set(
            Allocation.objects.filter(
                distribution_id=distribution.waiting_from_id, state=Allocation.State.WAITING
            ).values_list("household_id", flat=True)
        )
    names: dict[int, str] = {}
    rows = []
    for (
        pk,
        compound_id,
        building_id,
        unit,
        room,
        members,
        containment,
        building_containment,
        compound_name,
        building_name,
    ) in households.values_list(
        "pk",
        "compound_id",
        "building_id",
        "unit",
        "room",
        "members_count",
        "containment",
        "building__containment",
        "compound__name",
        "building__name",
    ).iterator(chunk_size=5000):
        names[compound_id] = compound_name
        names[building_id] = building_name
        rows.append(
            HouseholdRow(
                id=pk,
                compound_id=compound_id,
                building_id=building_id,
                unit=unit,
                room=room,
                members=members,
                sealed=Containment.SEALED in (containment, building_containment),
                special=pk in special,
                waiting=pk in waiting,
                order=(
                    natural_key(compound_name),
                    compound_id,
                    natural_key(building_name),
                    building_id,
                    natural_key(unit),
                    natural_key(room),
                ),
            )
        )
    return rows, names


def rules_of(distribution: Distribution) -> Rules:
    packages = list(distribution.packages.order_by("position", "pk"))
    if not packages:
        return Rules(default_package=0, stock={})
    bands: tuple[Band, ...] = ()
    if distribution.rule == Distribution.Rule.SIZE_BANDS:
        bands = tuple(Band(b.min_members, b.max_members, b.packs) for b in distribution.bands.all())
    special_package = distribution.special_package_id
    return Rules(
        default_package=packages[0].pk,
        stock={p.pk: p.quantity_available for p in packages},
        bands=bands,
        special_package=special_package if special_package != packages[0].pk else None,
        special_extra=distribution.special_extra_packs,
    )


def distribution_plan(distribution: Distribution) -> Plan:
    """The plan for `distribution` from the register as it is now."""
    rows, names = household_rows(distribution)
    plan = allocate(rows, rules_of(distribution))
    plan.names = names
    return plan


# --- summaries for the plan page -----------------------------------------------------------


@dataclass
class AreaSummary:
    area_id: int
    name: str
    households: int = 0
    served: int = 0
    left_out: int = 0
    packs: Counter = field(default_factory=Counter)  # package id → packs allocated
    buildings: list[AreaSummary] = field(default_factory=list)

    @property
    def packs_total(self) -> int:
        return sum(self.packs.values())


def per_compound(plan: Plan) -> list[AreaSummary]:
    """Households covered, served and left out, and packs, per compound and building."""
    compounds: dict[int, AreaSummary] = {}
    buildings: dict[int, AreaSummary] = {}
    for line in plan.lines:
        compound = compounds.get(line.compound_id)
        if compound is None:
            compound = compounds[line.compound_id] = AreaSummary(
                line.compound_id, plan.names.get(line.compound_id, "")
            )
        building = buildings.get(line.building_id)
        if building is None:
            building = buildings[line.building_id] = AreaSummary(
                line.building_id, plan.names.get(line.building_id, "")
            )
            compound.buildings.append(building)
        for summary in (compound, building):
            summary.households += 1
            if line.served:
                summary.served += 1
                summary.packs[line.package_id] += line.packs
            else:
                summary.left_out += 1
    result = sorted(compounds.values(), key=lambda c: (natural_key(c.name), c.area_id))
    for compound in result:
        compound.buildings.sort(key=lambda b: (natural_key(b.name), b.area_id))
    return result


def committed_plan(distribution: Distribution) -> Plan:
    """The plan as committed (its allocations), for a distribution whose bags are made."""
    lines = []
    for (
        household_id,
        compound_id,
        building_id,
        package_id,
        packs,
        special,
        priority,
        rank,
        state,
    ) in (
        Allocation.objects.filter(distribution=distribution)
        .values_list(
            "household_id",
            "compound_id",
            "building_id",
            "package_id",
            "packs",
            "special",
            "priority",
            "rank",
            "state",
        )
        .order_by("rank")
    ):
        served = state != Allocation.State.WAITING
        lines.append(
            Line(
                household_id,
                compound_id,
                building_id,
                package_id,
                packs,
                special,
                priority,
                rank,
                served,
            )
        )
    stock = dict(distribution.packages.values_list("pk", "quantity_available"))
    plan = Plan(lines=lines, unservable=[], stock=stock)
    left_out = [line for line in lines if not line.served]
    needed = plan.packs_needed()
    allocated = plan.packs_allocated()
    for package_id in sorted({line.package_id for line in left_out}):
        out = [line for line in left_out if line.package_id == package_id]
        plan.shortfalls.append(
            Shortfall(
                package_id,
                stock.get(package_id, 0),
                needed[package_id],
                out[0].rank,
                len(out),
                stock.get(package_id, 0) - allocated[package_id],
            )
        )
    ids = {line.compound_id for line in lines} | {line.building_id for line in lines}
    plan.names = dict(Area.objects.filter(pk__in=ids).values_list("pk", "name"))
    return plan
