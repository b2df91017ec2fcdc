"""Reads for the area and household pages, shared with exports.

Counts under a node come from a few grouped aggregate queries, never one
query per row: areas are grouped by the node whose subtree holds them (a CASE
over path prefixes), households and residents by their compound or building
id, which is then mapped to the node in Python.
The number of queries does not grow with the number of nodes or households.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import BigIntegerField, Case, Count, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import SPECIAL_CARE_FLAG_ROLES
from baogong.areas.addresses import building_key
from baogong.areas.models import Area, Containment, Household, Resident
from baogong.core.phones import mask_phone

if TYPE_CHECKING:
    from baogong.accounts.scoping import Scope


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that puts "3号楼" before "10号楼"."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name))


# --- the area tree ----------------------------------------------------------------

@dataclass
class AreaCounts:
    compounds: int = 0
    buildings: int = 0
    sealed_buildings: int = 0
    households: int = 0
    residents: int = 0

    def add(self, other: AreaCounts) -> None:
        for name in ("compounds", "buildings", "sealed_buildings", "households", "residents"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class AreaSummary:
    area: Area
    counts: AreaCounts


def breadcrumbs(scope: Scope, area: Area) -> list[Area]:
    """The ancestors of `area` that the user may open, top first."""
    if not area.ancestor_ids:
        return []
    return list(scope.areas().filter(pk__in=area.ancestor_ids).order_by("path"))


def _owner(paths: dict[str, Area], path: str) -> Area | None:
    """The node (keyed by path) whose subtree holds `path`, walking the path's prefixes."""
    end = 0
    while (end := path.find("/", end + 1)) != -1:
        node = paths.get(path[: end + 1])
        if node is not None:
            return node
    return None


def _any_under(field_path: str, nodes: Iterable[Area]) -> Q:
    q = Q()
    for node in nodes:
        q |= Q(**{f"{field_path}__startswith": node.path})
    return q


def count_under(nodes: Sequence[Area]) -> dict[int, AreaCounts]:
    """Count compounds, buildings, sealed buildings, households and residents under each node.

    `nodes` must not contain one another (siblings, or a user's root areas).
    Four queries whatever the size of the tree; a node counts itself (a
    compound node has compounds=1).
    """
    counts = {node.pk: AreaCounts() for node in nodes}
    if not nodes:
        return counts
    by_path = {node.path: node for node in nodes}

    node_of = Case(*[When(path__startswith=node.path, then=Value(node.pk)) for node in nodes],
                   default=None, output_field=BigIntegerField())
    area_rows = (
        Area.objects.filter(_any_under("path", nodes),
                            kind__in=[Area.Kind.COMPOUND, Area.Kind.BUILDING])
        .annotate(node=node_of).values("node").order_by()
        .annotate(compounds=Count("pk", filter=Q(kind=Area.Kind.COMPOUND)),
                  buildings=Count("pk", filter=Q(kind=Area.Kind.BUILDING)),
                  sealed=Count("pk", filter=Q(kind=Area.Kind.BUILDING,
                                              containment=Containment.SEALED)))
    )
    for row in area_rows:
        summary = counts[row["node"]]
        summary.compounds = row["compounds"]
        summary.buildings = row["buildings"]
        summary.sealed_buildings = row["sealed"]

    # Households and residents are grouped by their compound (or, when a node sits
    # at or below compound level, their building) id, through the indexed foreign
    # keys and without joining the area table; the few compounds or buildings
    # under the nodes say which node each id belongs to.
    fine = any(node.kind in (Area.Kind.COMPOUND, Area.Kind.BUILDING) for node in nodes)
    via = "building" if fine else "compound"
    node_of_id = {
        pk: _owner(by_path, path)
        for pk, path in Area.objects.filter(_any_under("path", nodes), kind=via)
        .values_list("pk", "path").order_by()
    }
    household_rows = (
        Household.objects.filter(**{f"{via}_id__in": list(node_of_id)})
        .values_list(f"{via}_id").order_by().annotate(n=Count("pk"))
    )
    resident_rows = (
        Resident.objects.filter(**{f"household__{via}_id__in": list(node_of_id)})
        .values_list(f"household__{via}_id").order_by().annotate(n=Count("pk"))
    )
    for rows, attr in ((household_rows, "households"), (resident_rows, "residents")):
        for pk, n in rows:
            node = node_of_id[pk]
            setattr(counts[node.pk], attr, getattr(counts[node.pk], attr) + n)
    return counts


def summarize(nodes: Iterable[Area]) -> list[AreaSummary]:
    """Nodes in natural name order, each with its counts."""
    ordered = sorted(nodes, key=lambda node: natural_key(node.name))
    counts = count_under(ordered)
    return [AreaSummary(node, counts[node.pk]) for node in ordered]


def total(summaries: Iterable[AreaSummary]) -> AreaCounts:
    result = AreaCounts()
    for summary in summaries:
        result.add(summary.counts)
    return result


def building_households(scope: Scope, building: Area) -> QuerySet[Household]:
    """The households of a building the user works with, in walking order."""
    return (scope.households().filter(building=building).select_related("building")
            .order_by("unit", "floor", "room"))


# --- households ------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdCriteria:
    """A cleaned household search; empty fields do not filter."""

    building: str = ""
    unit: str = ""
    room: str = ""
    phone: str = ""  # a normalised full number
    phone_tail: str = ""  # last 4 digits
    compound: Area | None = None

    def __bool__(self) -> bool:
        return any((self.building, self.unit, self.room, self.phone, self.phone_tail,
                    self.compound))


def household_search(scope: Scope, criteria: HouseholdCriteria) -> QuerySet[Household]:
    """Households in the user's scope that match every given criterion.

    Building names vary ("3号楼", "3栋", "三号楼"), so the building text is
    compared by key (addresses.building_key) against the buildings in scope,
    which are few next to households; the match becomes a building_id filter.
    """
    households = scope.households()
    if criteria.compound is not None:
        households = households.filter(compound=criteria.compound)
    if criteria.building:
        wanted = building_key(criteria.building)
        buildings = scope.areas().filter(kind=Area.Kind.BUILDING)
        if criteria.compound is not None:
            buildings = buildings.filter(parent=criteria.compound)
        ids = [pk for pk, name in buildings.values_list("pk", "name")
               if building_key(name) == wanted]
        households = households.filter(building_id__in=ids)
    if criteria.unit:
        households = households.filter(unit=criteria.unit)
    if criteria.room:
        households = households.filter(room=criteria.room)
    if criteria.phone:
        households = households.filter(
            Q(phone=criteria.phone) | Q(phone_alt=criteria.phone)
            | Q(pk__in=Resident.objects.filter(phone=criteria.phone).values("household_id"))
        )
    if criteria.phone_tail:
        tail = criteria.phone_tail
        households = households.filter(
            Q(phone__endswith=tail) | Q(phone_alt__endswith=tail)
            | Q(pk__in=Resident.objects.filter(phone__endswith=tail).values("household_id"))
        )
    return (households.select_related("building", "compound")
            .order_by("compound__name", "building__name", "unit", "floor", "room", "pk"))


def sees_special_care(scope: Scope, household: Household) -> bool:
    """Whether the user may see a resident's special-care flag (SPECIAL_CARE_FLAG_ROLES)."""
    if scope.superuser:
        return True
    return any(household.building.path.startswith(path)
               for path in scope.paths_for(SPECIAL_CARE_FLAG_ROLES))


def residents_of(household: Household) -> list[Resident]:
    return list(household.residents.order_by("-is_contact", "name"))


# --- history ---------------------------------------------------------------------

@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    subject: str
    action: str
    changes: list[FieldChange] = field(default_factory=list)


_ACTIONS = {"+": _("added"), "~": _("changed"), "-": _("removed")}
_PHONE_FIELDS = frozenset({"phone", "phone_alt"})


def _display(model: type, name: str, value: Any, *, full_phone: bool) -> str:
    if value is None or value == "":
        return "—"
    model_field = model._meta.get_field(name)
    if name in _PHONE_FIELDS:
        return value if full_phone else mask_phone(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def household_history(household: Household, *, full_phone: bool, special_care: bool,
                      limit: int = 50) -> list[HistoryEntry]:
    """Who changed what on a household and its residents (deleted ones too), newest first.

    Two queries: all history rows of the household and of its residents,
    diffed in memory against the previous row of the same object. Phones are
    masked unless `full_phone`; special-care changes are left out unless
    `special_care`.
    """
    hidden = set() if special_care else {"special_group"}
    records = [
        (Household, _("Household"), household.history.select_related("history_user")),
        (Resident, None, Resident.history.filter(household_id=household.pk)
         .select_related("history_user")),
    ]
    entries = []
    for model, label, queryset in records:
        previous: dict[int, Any] = {}
        for record in queryset.order_by("history_date", "history_id"):
            before = previous.get(record.id)
            previous[record.id] = record
            changes = []
            if record.history_type == "~" and before is not None:
                delta = record.diff_against(before, excluded_fields=hidden)
                changes = [
                    FieldChange(
                        field=str(model._meta.get_field(change.field).verbose_name),
                        old=_display(model, change.field, change.old, full_phone=full_phone),
                        new=_display(model, change.field, change.new, full_phone=full_phone),
                    )
                    for change in delta.changes
                ]
                if not changes:
                    continue  # nothing this user may see changed
            user = record.history_user
            entries.append(HistoryEntry(
                when=record.history_date,
                who=user.name if user is not None else str(_("system")),
                subject=str(label) if label is not None else record.name,
                action=str(_ACTIONS.get(record.history_type, record.history_type)),
                changes=changes,
            ))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]

