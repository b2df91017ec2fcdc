"""Write generated districts into the database: synthetic cities and the demo district.

`city_write` is the thin writer behind `citygen`: it inserts a `CitySpec`
level by level with bulk inserts (no per-row saves, no per-row queries), so a
city of 100,000 households takes seconds. `demo_load` writes the Fancheng
demo district once and then only ensures its suppliers and logins exist, so
running it again changes nothing.

Both are system writes: `by=None` (as in `areas.services`) means the loader
itself; history rows record it with a change reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Gate, Household, Resident
from baogong.areas.services import set_path
from baogong.core.errors import InvalidInput
from baogong.demo import fancheng
from baogong.demo.citygen import BuildingSpec, CitySpec
from baogong.demo.fastinsert import RowInserter, copy_to_history
from baogong.demo.ordering import DemoOrdering, demo_ordering
from baogong.notify.demo import demo_notifications
from baogong.supply.models import Supplier

if TYPE_CHECKING:
    from baogong.demo.fancheng import AccountSpec, DemoPlan

# Rows per INSERT of the few rows written through the ORM (gates, suppliers, users).
BATCH_SIZE = 1000
# Keys read back per round trip when matching residents to their households.
CHUNK_SIZE = 10_000
# Columns of the raw rows city_write builds; every other column gets its default.
AREA_FIELDS = (
    "kind",
    "parent_id",
    "name",
    "code",
    "latitude",
    "longitude",
    "units_count",
    "containment",
    "containment_since",
    "containment_until",
)
HOUSEHOLD_FIELDS = (
    "building_id",
    "compound_id",
    "unit",
    "floor",
    "room",
    "members_count",
    "phone",
    "phone_alt",
    "containment",
    "containment_since",
    "notes",
)
RESIDENT_FIELDS = (
    "household_id",
    "name",
    "phone",
    "is_contact",
    "special_group",
    "needs_door_delivery",
    "notes",
)


@dataclass
class _Writer:
    by: User | None
    reason: str
    history: bool
    when: datetime = field(default_factory=timezone.now)

    @property
    def history_attrs(self) -> dict[str, Any]:
        return {
            "when": self.when,
            "user_id": self.by.pk if self.by else None,
            "reason": self.reason,
        }

    def create(
        self, model: type[models.Model], objs: Sequence[models.Model]
    ) -> Sequence[models.Model]:
        """Bulk-insert a few `objs` through the ORM, with a history row each if kept."""
        if self.history and hasattr(model, "history"):
            return bulk_create_with_history(
                objs,
                model,
                batch_size=BATCH_SIZE,
                default_user=self.by,
                default_change_reason=self.reason,
                default_date=self.when,
            )
        return model.objects.bulk_create(objs, batch_size=BATCH_SIZE)

    def create_areas(self, areas: list[Area], *, parents: Sequence[Area]) -> None:
        """Insert one level of the tree and give the objects their keys and paths.

        The new keys are read back by the tree's natural key (parent, name),
        which is unique, so the rows can go in as raw tuples (see fastinsert).
        """
        RowInserter(Area, AREA_FIELDS, when=self.when).insert(
            tuple(getattr(area, name) for name in AREA_FIELDS) for area in areas
        )
        if parents:
            level = Area.objects.filter(parent__in=[parent.pk for parent in parents])
        else:
            level = Area.objects.filter(parent__isnull=True, name__in=[a.name for a in areas])
        keys = {
            (parent_id, name): pk
            for pk, parent_id, name in level.values_list("pk", "parent_id", "name")
        }
        for area in areas:
            area.pk = keys[area.parent_id, area.name]
            area._state.adding, area._state.db = False, level.db
            set_path(area)
        if parents:
            # set_path's formula, applied by the database in one statement per
            # level (bulk_update sends a CASE branch per row: 2 s for 3,000 buildings).
            level.update(
                path=Concat(
                    Subquery(Area.objects.filter(pk=OuterRef("parent_id")).values("path")),
                    Cast("pk", CharField()),
                    Value("/"),
                )
            )
        else:
            for area in areas:
                Area.objects.filter(pk=area.pk).update(path=area.path)


@transaction.atomic
def city_write(
    city: CitySpec, *, by: User | None, reason: str = "make_city", history: bool = True
) -> Area:
    """Insert the whole of `city` under a new district and return the district.

    Raises InvalidInput if a district of that name exists: the tree's root
    names are unique, and silently merging two generated cities would make
    neither reproducible. Runs in one transaction; on any error nothing stays.
    """
    if Area.objects.filter(parent__isnull=True, name=city.name).exists():
        raise InvalidInput(_("A district named %(name)s already exists."), name=city.name)
    writer = _Writer(by=by, reason=reason, history=history)

    district = Area(kind=Area.Kind.DISTRICT, name=city.name, code=city.code)
    writer.create_areas([district], parents=[])

    streets = [
        Area(kind=Area.Kind.STREET, parent=district, name=s.name, code=s.code) for s in city.streets
    ]
    writer.create_areas(streets, parents=[district])

    community_pairs = [
        (Area(kind=Area.Kind.COMMUNITY, parent=street, name=c.name, code=c.code), c)
        for street, spec in zip(streets, city.streets, strict=True)
        for c in spec.communities
    ]
    communities = [area for area, _spec in community_pairs]
    writer.create_areas(communities, parents=streets)

    compound_pairs = [
        (
            Area(
                kind=Area.Kind.COMPOUND,
                parent=community,
                name=c.name,
                latitude=c.latitude,
                longitude=c.longitude,
            ),
            c,
        )
        for community, spec in community_pairs
        for c in spec.compounds
    ]
    compounds = [area for area, _spec in compound_pairs]
    writer.create_areas(compounds, parents=communities)
    writer.create(
        Gate,
        [
            Gate(
                compound=compound,
                kind=g.kind,
                name=g.name,
                latitude=g.latitude,
                longitude=g.longitude,
            )
            for compound, spec in compound_pairs
            for g in spec.gates
        ],
    )

    building_pairs = [
        (
            Area(
                kind=Area.Kind.BUILDING,
                parent=compound,
                name=b.name,
                units_count=b.units_count,
                containment=b.containment,
                containment_since=b.containment_since,
                containment_until=b.containment_until,
            ),
            b,
        )
        for compound, spec in compound_pairs
        for b in spec.buildings
    ]
    writer.create_areas([area for area, _spec in building_pairs], parents=compounds)
    if writer.history:
        # Path is not in Area's history, so the rows can be copied now that it is set.
        copy_to_history(Area, "t.path LIKE %s", [f"{district.path}%"], **writer.history_attrs)

    _write_households(writer, compounds, building_pairs)
    return district


def _write_households(
    writer: _Writer, compounds: list[Area], building_pairs: list[tuple[Area, BuildingSpec]]
) -> None:
    """Insert households and residents as raw rows (see fastinsert), then their history.

    Residents need their household's key; rather than insert row by row to
    learn it, read all keys back in one query by the register's natural key
    (building, unit, room), which is unique. Rows are found by the new
    compounds' ids (households carry theirs), which needs no join.
    """
    RowInserter(Household, HOUSEHOLD_FIELDS, when=writer.when).insert(
        (
            building.pk,
            building.parent_id,
            h.unit,
            h.floor,
            h.room,
            h.members_count,
            h.phone,
            h.phone_alt,
            h.containment,
            h.containment_since,
            h.notes,
        )
        for building, spec in building_pairs
        for h in spec.households
    )
    compound_ids = [compound.pk for compound in compounds]
    _analyze(Household)
    household_ids = {
        (building_id, unit, room): pk
        for pk, building_id, unit, room in Household.objects.filter(compound_id__in=compound_ids)
        .values_list("pk", "building_id", "unit", "room")
        .iterator(chunk_size=CHUNK_SIZE)
    }
    RowInserter(Resident, RESIDENT_FIELDS, when=writer.when).insert(
        (
            household_ids[building.pk, h.unit, h.room],
            r.name,
            r.phone,
            r.is_contact,
            r.special_group,
            r.needs_door_delivery,
            r.notes,
        )
        for building, spec in building_pairs
        for h in spec.households
        for r in h.residents
    )
    if writer.history:
        _analyze(Resident)
        in_compounds = f"IN ({', '.join(['%s'] * len(compound_ids))})"
        household_table = connection.ops.quote_name(Household._meta.db_table)
        copy_to_history(
            Household, f"t.compound_id {in_compounds}", compound_ids, **writer.history_attrs
        )
        copy_to_history(
            Resident,
            f"t.household_id IN (SELECT h.id FROM {household_table} h "  # noqa: S608
            f"WHERE h.compound_id {in_compounds})",
            compound_ids,
            **writer.history_attrs,
        )


def _analyze(model: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics of a table this transaction just filled.

    Without it the planner still believes the table is empty and joins it by
    nested loops: reading back 100,000 new households took 85 s instead of 0.3 s.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- the demo district -------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    """One line of the table `load_demo` prints."""

    role: str
    label_zh: str
    phone: str
    name: str
    scope: str


@dataclass
class DemoResult:
    district: Area
    created: bool
    counts: dict[str, int]  # rows of each kind in the demo district, as citygen counts them
    password: str
    logins: list[DemoLogin]
    restored: list[str]  # what a re-run found missing and created again
    ordering: DemoOrdering  # suppliers' outlets and catalogs, rounds and orders (ordering.py)


@transaction.atomic
def demo_load(*, by: User | None = None) -> DemoResult:
    """Load the Fancheng demo district, its suppliers and one login per role, then the
    suppliers' outlets, catalogs and rounds with orders (`ordering.demo_ordering`).

    Idempotent: the district is written only if no district of its name
    exists; suppliers, users and grants are created only where missing, and
    existing ones (a password someone changed, say) are left as they are.
    Raises InvalidInput if a district named 樊城区 exists that load_demo did
    not make, rather than hang demo logins on someone's real data.
    """
    plan = fancheng.demo_plan()
    district = Area.objects.filter(parent__isnull=True, name=plan.city.name).first()
    if district is not None and district.code != plan.city.code:
        raise InvalidInput(
            _("A district named %(name)s exists that is not the demo district."),
            name=plan.city.name,
        )
    created = district is None
    if district is None:
        district = city_write(plan.city, by=by, reason="load_demo")
    writer = _Writer(by=by, reason="load_demo", history=True)
    suppliers, new_suppliers = _ensure_suppliers(writer, plan)
    logins, new_users, new_grants = _ensure_accounts(writer, plan, district, suppliers)
    ordering = demo_ordering(plan=plan, district=district, suppliers=suppliers)
    from baogong.welfare.demo import demo_welfare

    demo_welfare(
        district,
        staff_phone=fancheng.account_phone(4),
        volunteer_phone=fancheng.account_phone(6),
    )
    # Before fulfilment: orders dropped at the payment deadline are off its documents.
    from baogong.payments.demo import demo_payments

    demo_payments(
        district,
        phones={
            "community_staff": fancheng.account_phone(4),
            "liaison": fancheng.account_phone(5),
            "volunteer": fancheng.account_phone(6),
            "supplier": fancheng.account_phone(8),
            "resident": next(a.phone for a in plan.accounts if a.role == "resident"),
        },
    )
    from baogong.fulfilment.demo import demo_fulfilment

    demo_fulfilment(district)
    # After fulfilment: confirms the closed demo round and sends it off on a trip.
    from baogong.fulfilment.demo_transport import demo_transport

    demo_transport(district)
    from baogong.lastmile.demo import demo_pickup

    demo_pickup(district, liaison_phone=fancheng.account_phone(5))
    from baogong.monitoring.demo import demo_monitoring

    demo_monitoring(district=district)
    from baogong.requisitions.demo import demo_requisitions

    demo_requisitions(
        district,
        phones={
            "community": fancheng.account_phone(4),
            "street": fancheng.account_phone(3),
            "bureau": fancheng.account_phone(7),
            "supplier": fancheng.account_phone(8),
        },
        supplier_name=plan.suppliers[0].name,
    )
    # Last: announces the open rounds to the households as the other demo steps left them.
    demo_notifications(district)
    from baogong.distributions.demo import demo_distribution

    demo_distribution(
        district,
        street_name=plan.city.streets[0].name,
        phones={"street": fancheng.account_phone(3), "liaison": fancheng.account_phone(5)},
    )
    # After the pickup and distribution demos: their deliveries' door bags become tasks.
    from baogong.lastmile.demo_doors import demo_door_tasks

    demo_door_tasks(volunteer_phone=fancheng.account_phone(6))
    restored = (
        []
        if created
        else [
            f"{count} {what}"
            for what, count in (
                ("supplier(s)", new_suppliers),
                ("login(s)", new_users),
                ("role grant(s)", new_grants),
                *((f"{what}(s)", n) for what, n in ordering.created.items()),
            )
            if count
        ]
    )
    return DemoResult(
        district=district,
        created=created,
        counts=plan.city.counts(),
        password=fancheng.DEMO_PASSWORD,
        logins=logins,
        restored=restored,
        ordering=ordering,
    )


def _ensure_suppliers(writer: _Writer, plan: DemoPlan) -> tuple[dict[str, Supplier], int]:
    """Create the plan's suppliers that do not exist by name; return all and the count made."""
    existing = {
        s.name: s for s in Supplier.objects.filter(name__in=[spec.name for spec in plan.suppliers])
    }
    missing = [
        Supplier(
            name=spec.name,
            kind=spec.kind,
            contact_name=spec.contact_name,
            contact_phone=spec.contact_phone,
        )
        for spec in plan.suppliers
        if spec.name not in existing
    ]
    if missing:
        writer.create(Supplier, missing)
    return existing | {s.name: s for s in missing}, len(missing)


def _ensure_accounts(
    writer: _Writer, plan: DemoPlan, district: Area, suppliers: dict[str, Supplier]
) -> tuple[list[DemoLogin], int, int]:
    """Create missing demo users (by phone) and grants; return the logins and the counts made."""
    users = {u.phone: u for u in User.objects.filter(phone__in=[a.phone for a in plan.accounts])}
    missing = [spec for spec in plan.accounts if spec.phone not in users]
    if missing:
        # One hash for every demo login: they share the password, and hashing
        # it once instead of nine times keeps the load to a few seconds.
        password = make_password(fancheng.DEMO_PASSWORD)
        new_users = [
            User(
                phone=spec.phone,
                name=spec.name,
                password=password,
                is_staff=spec.role == fancheng.SUPERUSER,
                is_superuser=spec.role == fancheng.SUPERUSER,
                date_joined=writer.when,
            )
            for spec in missing
        ]
        writer.create(User, new_users)
        users |= {u.phone: u for u in new_users}

    logins: list[DemoLogin] = []
    grants: list[RoleGrant] = []
    for spec in plan.accounts:
        user = users[spec.phone]
        scope, scope_name = _resolve_scope(spec, district, suppliers)
        if scope is not None:
            grant = RoleGrant(user=user, role=spec.role, granted_by=writer.by, **scope)
            if not RoleGrant.objects.filter(user=user, role=spec.role, **scope).exists():
                grants.append(grant)
        logins.append(
            DemoLogin(
                role=spec.role,
                label_zh=spec.label_zh,
                phone=spec.phone,
                name=user.name,
                scope=scope_name,
            )
        )
    if grants:
        writer.create(RoleGrant, grants)
    return logins, len(missing), len(grants)


def _resolve_scope(
    spec: AccountSpec, district: Area, suppliers: dict[str, Supplier]
) -> tuple[dict[str, Any] | None, str]:
    """Find the grant scope an account's names point at: ({field: object}, display name)."""
    if spec.role == fancheng.SUPERUSER:
        return None, "全部 / everything"
    if spec.role == Role.SUPPLIER:
        supplier = suppliers[spec.scope[0]]
        return {"supplier": supplier}, supplier.name
    if spec.role == Role.RESIDENT:
        *area_names, unit, room = spec.scope
        building = _area_by_names(district, area_names)
        household = Household.objects.get(building=building, unit=unit, room=room)
        label = f"{building.parent.name} {household.address}"
        return {"household": household}, label
    area = _area_by_names(district, spec.scope)
    return {"area": area}, " / ".join((district.name, *spec.scope))


def _area_by_names(district: Area, names: Iterable[str]) -> Area:
    area = district
    for name in names:
        area = Area.objects.get(parent=area, name=name)
    return area
