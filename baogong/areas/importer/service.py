"""The register import service: match the checked rows against the register and write.

`register_import` reads the file and checks its rows (see `reading`), matches
them against compounds, buildings, households and residents loaded in a few
queries, decides each row's outcome and, unless it is a dry run, writes
everything in one transaction with bulk inserts (COPY on PostgreSQL,
baogong/core/bulk.py) and bulk history rows, chunk by chunk, a writer thread
writing one chunk while the next is checked.

Empty cells leave existing values as they are: an import adds and corrects, it
never erases what the register already holds.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from baogong.accounts.scoping import scope_for
from baogong.areas.addresses import building_key, floor_of
from baogong.areas.importer.reading import (
    Outcome,
    ParsedRow,
    RegisterFileError,
    RegisterSheet,
    RowChecker,
    RowOutcome,
    RowRejected,
    name_key,
    parse_rows,
    read_register,
)
from baogong.areas.models import Area, Containment, Household, Resident
from baogong.core.bulk import allocate_ids, insert_rows
from baogong.core.errors import Conflict, InvalidInput, NotAllowed

if TYPE_CHECKING:
    import datetime

    from baogong.accounts.models import User

HOUSEHOLD_FIELDS = ("id", "created_at", "updated_at", "building_id", "compound_id", "unit",
                    "floor", "room", "members_count", "phone", "phone_alt", "containment",
                    "containment_since", "containment_until", "notes")
RESIDENT_FIELDS = ("id", "created_at", "updated_at", "household_id", "name", "phone",
                   "is_contact", "special_group", "needs_door_delivery", "notes")
_HH = {name: index for index, name in enumerate(HOUSEHOLD_FIELDS)}
CHUNK_ROWS = 5000  # rows checked while the previous chunk is written
# Household fields a row can change, with the ParsedRow attribute that carries them.
_ROW_FIELDS = (("members_count", "members"), ("phone", "phone"), ("phone_alt", "phone_alt"),
               ("containment", "containment"), ("notes", "notes"))


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do), row by row."""

    filename: str
    into_id: int
    dry_run: bool
    header_row: int
    rows: list[RowOutcome]
    compounds_created: list[str] = field(default_factory=list)
    buildings_created: list[str] = field(default_factory=list)
    residents_created: int = 0
    residents_updated: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((o.value for o in Outcome), 0)
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    def as_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """Return the report as JSON-ready data; `limit` caps the rows listed.

        With a limit, rejected rows are kept before created and updated ones (they
        are what the user has to act on) and unchanged rows are left out; the
        listed rows stay in file order.
        """
        rows = self.rows
        if limit is not None:
            rejected = [r for r in rows if r.outcome == Outcome.REJECTED][:limit]
            changed = [r for r in rows if r.outcome in (Outcome.CREATED, Outcome.UPDATED)]
            rows = sorted(rejected + changed[: max(limit - len(rejected), 0)],
                          key=lambda r: r.row)
        return {
            "filename": self.filename, "into": self.into_id, "dry_run": self.dry_run,
            "header_row": self.header_row, "counts": self.counts,
            "compounds_created": self.compounds_created,
            "buildings_created": self.buildings_created,
            "residents_created": self.residents_created,
            "residents_updated": self.residents_updated,
            "rows": [r.as_dict() for r in rows], "rows_listed": len(rows),
            "rows_total": len(self.rows),
        }


@dataclass(eq=False)
class _NewArea:
    kind: str
    name: str
    parent: Any  # an existing Area row (values dict) or a _NewArea
    rural: bool = False
    id: int | None = None
    path: str = ""


@dataclass(slots=True, eq=False)
class _NewHousehold:
    building: Any  # id or _NewArea
    compound: Any
    values: list[Any]  # HOUSEHOLD_FIELDS, ids filled in at write time


@dataclass
class _Plan:
    outcomes: list[RowOutcome] = field(default_factory=list)
    new_areas: list[_NewArea] = field(default_factory=list)  # parents before children
    households_new: list[_NewHousehold] = field(default_factory=list)
    households_changed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # (household id or _NewHousehold, name, phone)
    residents_new: list[tuple[Any, str, str]] = field(default_factory=list)
    residents_changed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def absorb(self, other: _Plan) -> None:
        """Add what the report needs of another (written) plan to this one."""
        self.outcomes += other.outcomes
        self.new_areas += other.new_areas
        self.residents_new += other.residents_new
        self.residents_changed += other.residents_changed


def read_register_for(data: bytes, *, filename: str, into: Area) -> RegisterSheet:
    """Read the register for an import into `into`: a compound column is needed above a compound."""
    sheet = read_register(data, filename=filename)
    if into.kind != Area.Kind.COMPOUND and not sheet.has("compound"):
        raise RegisterFileError(
            _("Importing into %(area)s, which holds several compounds, needs a compound "
              "column (小区) saying which compound each household is in."), area=into.name)
    return sheet


def register_import(data: bytes, *, filename: str, into: Area, by: User | None,
                    dry_run: bool = False,
                    progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a household register file into `into` (a compound, community, street or district).

    Read the whole file first (whole-file problems stop here), then check, match
    and write its rows in one transaction: valid rows are kept even when others
    are rejected, nothing is half-written, and a second import of the same file
    changes nothing. Imports in one district take turns (a row lock on it).
    `by` must be able to edit `into` (None is the system). Raise NotAllowed,
    RegisterFileError for a file that cannot be imported as a whole, Conflict if
    the register changed under the import. A dry run writes nothing and returns
    the same report.
    """
    if by is not None and not scope_for(by).can_edit_area(into):
        raise NotAllowed()
    if into.kind == Area.Kind.BUILDING:
        raise InvalidInput(_("Import into a compound, community or street, not a building."))
    with _gc_paused():
        return _import(data, filename=filename, into=into, by=by, dry_run=dry_run,
                       progress=progress)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of an import.

    An import allocates hundreds of thousands of long-lived objects, each batch
    of which triggers a full collection that finds nothing: pausing it makes a
    100,000-row import about 40% faster. The rows make no reference cycles, so
    nothing piles up meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(data: bytes, *, filename: str, into: Area, by: User | None, dry_run: bool,
            progress: Callable[[int, int], None] | None) -> ImportReport:
    sheet = read_register_for(data, filename=filename, into=into)
    compound_name = into.name if into.kind == Area.Kind.COMPOUND else ""
    if dry_run:
        parsed, rejected = parse_rows(sheet, compound_name=compound_name, progress=progress)
        plan = _Plan()
        _Planner(into, now=timezone.now(), with_residents=sheet.has("name")).plan(parsed, plan)
    else:
        rejected, plan = _write_in_chunks(sheet, compound_name=compound_name, into=into, by=by,
                                          filename=filename, progress=progress)
    report = ImportReport(filename=filename, into_id=into.pk, dry_run=dry_run,
                          header_row=sheet.header_row,
                          rows=sorted(rejected + plan.outcomes, key=lambda r: r.row))
    report.compounds_created = [a.name for a in plan.new_areas if a.kind == Area.Kind.COMPOUND]
    report.buildings_created = [_area_label(a) for a in plan.new_areas
                                if a.kind == Area.Kind.BUILDING]
    report.residents_created = len(plan.residents_new)
    report.residents_updated = len(plan.residents_changed)
    if progress is not None:
        progress(len(sheet.rows), len(sheet.rows))
    return report


def _write_in_chunks(sheet: RegisterSheet, *, compound_name: str, into: Area, by: User | None,
                     filename: str, progress: Callable[[int, int], None] | None
                     ) -> tuple[list[RowOutcome], _Plan]:
    """Check, match and write the rows chunk by chunk in one transaction.

    A writer thread writes chunk n (on this thread's connection, which this
    thread leaves alone meanwhile) while this thread checks and matches chunk
    n + 1, so the database's share of the work (COPY, indexes) runs beside
    Python's. Foreign keys stay deferred to the commit: checked there in one go
    they cost PostgreSQL less than statement by statement. Return the rejected
    rows and the plan of everything written.
    """
    now = timezone.now()
    reason = _change_reason(filename)
    checker = RowChecker(sheet, compound_name=compound_name)
    rejected: list[RowOutcome] = []
    done = _Plan()
    try:
        with transaction.atomic():
            # Two imports into overlapping areas (a compound and its community) would
            # race on the households' natural key; every target shares the district
            # row, so imports in one district run one after another. NO KEY keeps
            # inserts of rows referencing the district unblocked.
            root_id = int(into.path.strip("/").split("/")[0])
            Area.objects.select_for_update(no_key=True).filter(pk=root_id).first()
            planner = _Planner(into, now=now, with_residents=sheet.has("name"))
            with _writer_thread() as writer:
                pending = None
                for start in range(0, len(sheet.rows), CHUNK_ROWS):
                    chunk = sheet.rows[start:start + CHUNK_ROWS]
                    parsed = []
                    for number, cells in chunk:
                        result = checker.check(number, cells)
                        (parsed if isinstance(result, ParsedRow) else rejected).append(result)
                    plan = _Plan()
                    planner.plan(parsed, plan)
                    if pending is not None:
                        pending.result()  # the writer's errors surface here
                    pending = writer.submit(_write, plan, by=by, now=now, reason=reason)
                    done.absorb(plan)
                    if progress is not None:
                        progress(start + len(chunk), len(sheet.rows))
                if pending is not None:
                    pending.result()
    except IntegrityError:
        # Someone edited the same flats by hand while the import ran.
        raise Conflict(_("The register changed while the file was being imported; nothing "
                         "was written. Import the file again.")) from None
    return rejected, done


@contextlib.contextmanager
def _writer_thread() -> Iterator[ThreadPoolExecutor]:
    """Lend this thread's database connection (and open transaction) to one writer thread.

    The caller must not use the connection while a write is pending. Leaving
    the block waits for the writer, so the transaction never ends under it.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    connection.inc_thread_sharing()

    def adopt_connection() -> None:
        connections[DEFAULT_DB_ALIAS] = connection

    executor = ThreadPoolExecutor(max_workers=1, initializer=adopt_connection,
                                  thread_name_prefix="register-import")
    try:
        yield executor
    finally:
        executor.shutdown(wait=True)
        connection.dec_thread_sharing()


def _change_reason(filename: str) -> str:
    limit = Household.history.model._meta.get_field("history_change_reason").max_length
    return (_("Register import: %(file)s") % {"file": filename or "-"})[:limit]


def _area_label(area: _NewArea) -> str:
    parent = area.parent
    parent_name = parent.name if isinstance(parent, _NewArea) else parent["name"]
    return f"{parent_name} {area.name}"


class _Places:
    """Compounds and buildings of the target, loaded once; new ones are planned on demand."""

    def __init__(self, into: Area, plan: _Plan) -> None:
        self.into = into
        self.plan = plan
        fields = ("id", "name", "parent_id", "path", "kind", "rural")
        under = Area.objects.filter(path__startswith=into.path)
        if into.kind == Area.Kind.COMPOUND:
            self.compounds = {into.pk: _area_values(into, fields)}
            self.communities: dict[int, dict[str, Any]] = {}
        else:
            self.compounds = {a["id"]: a for a in under.filter(
                kind=Area.Kind.COMPOUND).values(*fields)}
            self.communities = {a["id"]: a for a in under.filter(
                kind=Area.Kind.COMMUNITY).values(*fields)}
            if into.kind == Area.Kind.COMMUNITY:
                self.communities[into.pk] = _area_values(into, fields)
        self.compounds_by_name: dict[str, list[dict[str, Any]]] = {}
        for compound in self.compounds.values():
            self.compounds_by_name.setdefault(name_key(compound["name"]), []).append(compound)
        self.buildings: dict[tuple[int, str], int] = {}
        self.building_names: dict[int, str] = {}
        for pk, name, parent_id in Area.objects.filter(
            kind=Area.Kind.BUILDING, parent_id__in=list(self.compounds)
        ).order_by("-pk").values_list("id", "name", "parent_id"):
            # Lowest id wins when two buildings share a key ("3号楼" and "3栋").
            self.buildings[(parent_id, building_key(name))] = pk
            self.building_names[pk] = name
        self._compound_cache: dict[tuple[str, str], Any] = {}
        self._new_buildings: dict[tuple[int, str], _NewArea] = {}

    def compound(self, row: ParsedRow) -> Any:
        """Return the compound (values dict or _NewArea) of a row, or raise RowRejected."""
        if self.into.kind == Area.Kind.COMPOUND:
            if row.compound and name_key(row.compound) != name_key(self.into.name):
                raise RowRejected(_("The row is for compound “%(name)s”, but the file is being "
                                  "imported into “%(into)s”.")
                                % {"name": row.compound, "into": self.into.name})
            return self.compounds[self.into.pk]
        key = (name_key(row.compound), name_key(row.community))
        if key not in self._compound_cache:
            try:
                self._compound_cache[key] = self._resolve_compound(row)
            except RowRejected as rejection:
                self._compound_cache[key] = rejection
        found = self._compound_cache[key]
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason)  # a fresh one: re-raising grows its traceback
        return found

    def _resolve_compound(self, row: ParsedRow) -> Any:
        if not row.compound:
            raise RowRejected(_("The compound (小区) is missing."))
        matches = self.compounds_by_name.get(name_key(row.compound), [])
        community = self._community(row.community) if row.community else None
        if community is not None:
            matches = [m for m in matches if m["parent_id"] == community["id"]]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RowRejected(_("Several compounds under %(area)s are called “%(name)s”; add a "
                              "community column (社区) to say which.")
                            % {"area": self.into.name, "name": row.compound})
        if community is None and self.into.kind == Area.Kind.COMMUNITY:
            community = self.communities[self.into.pk]
        if community is None:
            raise RowRejected(_("There is no compound “%(name)s” under %(area)s. Create it first, "
                              "or add a community column (社区) so it can be created.")
                            % {"name": row.compound, "area": self.into.name})
        new = _NewArea(Area.Kind.COMPOUND, row.compound, community, rural=community["rural"])
        self.plan.new_areas.append(new)
        return new

    def _community(self, name: str) -> dict[str, Any]:
        matches = [c for c in self.communities.values() if name_key(c["name"]) == name_key(name)]
        if len(matches) != 1:
            raise RowRejected(_("There is no single community “%(name)s” under %(area)s.")
                            % {"name": name, "area": self.into.name})
        return matches[0]

    def building(self, compound: Any, row: ParsedRow) -> Any:
        """Return the building id of a row, or the _NewArea planned for it."""
        if isinstance(compound, dict):
            found = self.buildings.get((compound["id"], row.building))
            if found is not None:
                return found
        new_key = (id(compound), row.building)
        new = self._new_buildings.get(new_key)
        if new is None:
            rural = compound.rural if isinstance(compound, _NewArea) else compound["rural"]
            new = _NewArea(Area.Kind.BUILDING, row.building_label, compound, rural=rural)
            self._new_buildings[new_key] = new
            self.plan.new_areas.append(new)
        return new

    def building_label(self, building: Any) -> str:
        return building.name if isinstance(building, _NewArea) else self.building_names[building]


def _area_values(area: Area, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(area, name) for name in fields}


class _Planner:
    """Decide rows' outcomes against the stored register, chunk after chunk; write nothing.

    Loads the target's compounds, buildings, households (and residents when the
    file names people) once, in a few queries.
    """

    def __init__(self, into: Area, *, now: datetime.datetime, with_residents: bool) -> None:
        self.now = now
        self.places = _Places(into, _Plan())
        compound_ids = list(self.places.compounds)
        self.households = _existing_households(compound_ids)
        self.residents = _existing_residents(compound_ids) if with_residents else {}
        self.several = into.kind != Area.Kind.COMPOUND

    def plan(self, rows: list[ParsedRow], plan: _Plan) -> None:
        """Add the outcome of each row, and what writing it takes, to `plan`."""
        self.places.plan = plan  # new compounds and buildings go into this plan
        for row in rows:
            try:
                compound = self.places.compound(row)
                building = self.places.building(compound, row)
            except RowRejected as rejection:
                plan.outcomes.append(RowOutcome(row.row, Outcome.REJECTED, _parsed_label(row),
                                                rejection.reason))
                continue
            self._plan_row(plan, row, compound, building)

    def _plan_row(self, plan: _Plan, row: ParsedRow, compound: Any, building: Any) -> None:
        address = _address(self.places, compound, building, row, several=self.several)
        existing = (self.households.get((building, row.unit, row.room))
                    if isinstance(building, int) else None)
        if existing is None:
            household = _plan_new_household(plan, row, compound, building, self.now)
            if row.name:
                plan.residents_new.append((household, row.name, row.phone or ""))
            plan.outcomes.append(RowOutcome(row.row, Outcome.CREATED, address))
            return
        changes = _plan_household_update(plan, row, existing)
        if row.name:
            changes += _plan_resident(plan, row, existing[0], self.residents)
        outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED
        plan.outcomes.append(RowOutcome(row.row, outcome, address, changes=changes))


def _parsed_label(row: ParsedRow) -> str:
    unit = f"{row.unit}单元" if row.unit else ""
    return " ".join(p for p in (row.compound, f"{row.building_label}{unit}{row.room}") if p)


def _address(places: _Places, compound: Any, building: Any, row: ParsedRow, *,
             several: bool) -> str:
    unit = f"{row.unit}单元" if row.unit else ""
    flat = f"{places.building_label(building)}{unit}{row.room}"
    if not several:
        return flat
    name = compound.name if isinstance(compound, _NewArea) else compound["name"]
    return f"{name} {flat}"


# What matching needs of stored rows; full rows are read only for the few that change.
_MATCH_HOUSEHOLD = ("id", "building_id", "unit", "room", *(name for name, _a in _ROW_FIELDS))
_MATCH_RESIDENT = ("id", "household_id", "name", "phone", "is_contact")


def _existing_households(compound_ids: list[int]) -> dict[tuple[int, str, str], tuple[Any, ...]]:
    rows = Household.objects.filter(compound_id__in=compound_ids).values_list(*_MATCH_HOUSEHOLD)
    return {(row[1], row[2], row[3]): row for row in rows.iterator(chunk_size=10000)}


def _existing_residents(compound_ids: list[int]) -> dict[tuple[int, str], tuple[Any, ...]]:
    rows = Resident.objects.filter(household__compound_id__in=compound_ids).values_list(
        *_MATCH_RESIDENT)
    return {(row[1], row[2]): row for row in rows.iterator(chunk_size=10000)}


def _plan_new_household(plan: _Plan, row: ParsedRow, compound: Any, building: Any,
                        now: datetime.datetime) -> _NewHousehold:
    values = [None, now, now, None, None, row.unit, floor_of(row.room), row.room,
              row.members or 1, row.phone or "", row.phone_alt or "",
              row.containment or Containment.NONE.value, None, None, row.notes or ""]
    household = _NewHousehold(building, compound if isinstance(compound, _NewArea)
                              else compound["id"], values)
    plan.households_new.append(household)
    return household


def _plan_household_update(plan: _Plan, row: ParsedRow, existing: tuple[Any, ...]) -> list[str]:
    changed = {}
    for position, (name, attribute) in enumerate(_ROW_FIELDS, start=4):
        value = getattr(row, attribute)
        if value is not None and value != existing[position]:
            changed[name] = value
    if changed:
        plan.households_changed.append((existing[0], changed))
    return list(changed)


def _plan_resident(plan: _Plan, row: ParsedRow, household_id: int,
                   residents: dict[tuple[int, str], tuple[Any, ...]]) -> list[str]:
    existing = residents.get((household_id, row.name))
    if existing is None:
        plan.residents_new.append((household_id, row.name, row.phone or ""))
        return ["contact"]
    changed: dict[str, Any] = {}
    if row.phone and row.phone != existing[3]:
        changed["phone"] = row.phone
    if not existing[4]:
        changed["is_contact"] = True
    if not changed:
        return []
    plan.residents_changed.append((existing[0], changed))
    return ["contact_phone"] if list(changed) == ["phone"] else ["contact"]


def _write(plan: _Plan, *, by: User | None, now: datetime.datetime, reason: str) -> None:
    """Write a plan inside the caller's transaction: areas, households, residents, history."""
    user_id = by.pk if by is not None else None
    history = _HistoryWriter(user_id=user_id, reason=reason, now=now)
    _create_areas(plan.new_areas, by=by, now=now, reason=reason)
    ids = iter(allocate_ids(Household, len(plan.households_new)))
    for household in plan.households_new:
        values = household.values
        values[_HH["id"]] = next(ids)
        values[_HH["building_id"]] = _pk(household.building)
        values[_HH["compound_id"]] = _pk(household.compound)
    new_households = [h.values for h in plan.households_new]
    insert_rows(Household, HOUSEHOLD_FIELDS, new_households)
    history.write(Household, HOUSEHOLD_FIELDS, new_households, "+")
    changed = _update_rows(Household, HOUSEHOLD_FIELDS, plan.households_changed, now)
    history.write(Household, HOUSEHOLD_FIELDS, changed, "~")

    ids = iter(allocate_ids(Resident, len(plan.residents_new)))
    new_residents = [
        (next(ids), now, now, _household_pk(household), name, phone, True, False, False, "")
        for household, name, phone in plan.residents_new
    ]
    insert_rows(Resident, RESIDENT_FIELDS, new_residents)
    history.write(Resident, RESIDENT_FIELDS, new_residents, "+")
    changed = _update_rows(Resident, RESIDENT_FIELDS, plan.residents_changed, now)
    history.write(Resident, RESIDENT_FIELDS, changed, "~")


def _pk(ref: Any) -> int:
    return ref.id if isinstance(ref, _NewArea) else ref


def _household_pk(ref: Any) -> int:
    return ref.values[_HH["id"]] if isinstance(ref, _NewHousehold) else ref


def _create_areas(new_areas: list[_NewArea], *, by: User | None, now: datetime.datetime,
                  reason: str) -> None:
    """Create the planned compounds and buildings with their paths and history rows."""
    if not new_areas:
        return
    objs = []
    # new_areas lists a new compound before its buildings, so parents get paths first.
    for area, pk in zip(new_areas, allocate_ids(Area, len(new_areas)), strict=True):
        parent = area.parent
        parent_id = parent.id if isinstance(parent, _NewArea) else parent["id"]
        parent_path = parent.path if isinstance(parent, _NewArea) else parent["path"]
        area.id, area.path = pk, f"{parent_path}{pk}/"
        objs.append(Area(id=pk, kind=area.kind, parent_id=parent_id, name=area.name,
                         path=area.path, rural=area.rural,
                         created_at=now, updated_at=now))
    Area.objects.bulk_create(objs)
    Area.history.bulk_history_create(objs, default_user=by, default_change_reason=reason,
                                     default_date=now)


def _update_rows(model: type[Household | Resident], fields: tuple[str, ...],
                 changes: list[tuple[int, dict[str, Any]]], now: datetime.datetime
                 ) -> list[list[Any]]:
    """Apply `changes` ({pk: {field: value}}) with bulk_update; return the full new rows."""
    if not changes:
        return []
    by_pk = dict(changes)
    rows: list[list[Any]] = []
    pks = list(by_pk)
    for start in range(0, len(pks), 5000):
        batch = model.objects.filter(pk__in=pks[start:start + 5000]).values_list(*fields)
        rows.extend(list(row) for row in batch)
    index = {name: position for position, name in enumerate(fields)}
    for row in rows:
        for name, value in by_pk[row[0]].items():
            row[index[name]] = value
        row[index["updated_at"]] = now
    names = sorted({name for change in by_pk.values() for name in change} | {"updated_at"})
    objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
    model.objects.bulk_update(objs, names, batch_size=1000)
    return rows


class _HistoryWriter:
    """Write django-simple-history rows in bulk, the way `save()` would one by one."""

    def __init__(self, *, user_id: int | None, reason: str, now: datetime.datetime) -> None:
        self.user_id = user_id
        self.reason = reason
        self.now = now

    def write(self, model: type[Household | Resident], fields: tuple[str, ...],
              rows: list[list[Any]] | list[tuple[Any, ...]], history_type: str) -> None:
        """Write one history row per row of `model` (values in `fields` order)."""
        if not rows:
            return
        history_model = model.history.model
        tracked = [f.attname for f in history_model.tracked_fields]
        extra = ("history_date", "history_change_reason", "history_type", "history_user_id")
        index = {name: i for i, name in enumerate(fields)}
        width = len(fields)
        pick = itemgetter(*[index[name] for name in tracked],
                          *range(width, width + len(extra)))
        tail = (self.now, self.reason, history_type, self.user_id)
        insert_rows(history_model, [*tracked, *extra], (pick((*row, *tail)) for row in rows))
