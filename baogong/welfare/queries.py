"""Who may read special-care details, and the reads pages and exports share.

The rule, in one place: a record's details are visible to community staff
whose grant covers the resident's building and to the volunteers assigned to
the record, nobody else (not street or district staff, who get counts; not a
volunteer of the same building who is not assigned; never suppliers or
residents). Every function here that hands out details takes `view=` and
writes an AccessLog row per record read, so no page can forget to log.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant
from baogong.accounts.scoping import REGISTER_ROLES
from baogong.areas.models import Area
from baogong.areas.queries import natural_key
from baogong.core.errors import NotFound
from baogong.welfare.models import (
    AccessLog,
    Category,
    CheckIn,
    Need,
    NeedCategory,
    SpecialCare,
    Task,
)

if TYPE_CHECKING:
    from baogong.accounts.models import User
    from baogong.accounts.scoping import Scope

# Staff who read details (within their community); the rest of REGISTER_ROLES see counts.
DETAIL_ROLES = frozenset({Role.COMMUNITY_STAFF})
SUMMARY_ROLES = REGISTER_ROLES
OPEN_NEED_STATES = (Need.State.OPEN, Need.State.IN_HAND)


# --- the visibility rule --------------------------------------------------------------


def _detail_q(scope: Scope) -> Q:
    if scope.superuser:
        return Q()
    q = Q(
        pk__in=SpecialCare.volunteers.through.objects.filter(user_id=scope.user.pk).values(
            "specialcare_id"
        )
    )
    for path in scope.paths_for(DETAIL_ROLES):
        q |= Q(household__building__path__startswith=path)
    return q


def visible_cares(scope: Scope) -> QuerySet[SpecialCare]:
    """Records whose details the user may read (reading them must still be logged)."""
    return SpecialCare.objects.filter(_detail_q(scope)).select_related(
        "resident", "household__building", "household__compound"
    )


def may_read(scope: Scope, care: SpecialCare) -> bool:
    return visible_cares(scope).filter(pk=care.pk).exists()


def is_staff_for(scope: Scope, care: SpecialCare) -> bool:
    """Community staff (or superuser) over the record: may edit it and act on its needs."""
    return scope.superuser or any(
        care.household.building.path.startswith(p) for p in scope.paths_for(DETAIL_ROLES)
    )


def log_reads(user: User, cares: Iterable[SpecialCare], *, view: str) -> None:
    """Record that `user` read these records' details through `view`."""
    AccessLog.objects.bulk_create(
        [AccessLog(care_id=care.pk, user_id=user.pk, view=view) for care in cares]
    )


def care_for(scope: Scope, pk: int, *, view: str) -> SpecialCare:
    """The record if the user may read it (logged as a read through `view`), else NotFound."""
    try:
        care = visible_cares(scope).get(pk=pk)
    except (SpecialCare.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    log_reads(scope.user, [care], view=view)
    return care


def detail_area(scope: Scope, pk: int) -> Area:
    """An area whose people and needs the user may list by name (community staff)."""
    return scope.area(pk, roles=DETAIL_ROLES)


def summary_area(scope: Scope, pk: int) -> Area:
    """An area whose counts the user may see (district, street and community staff)."""
    return scope.area(pk, roles=SUMMARY_ROLES)


def under(area: Area, prefix: str = "household__building__") -> Q:
    return Q(**{f"{prefix}path__startswith": area.path})


def community_staff_ids(care: SpecialCare) -> list[int]:
    """Community staff whose grant covers the record's building: told of urgent calls."""
    path = care.household.building.path
    prefixes = [
        "/" + "/".join(path.strip("/").split("/")[:n]) + "/" for n in range(1, path.count("/"))
    ]
    return sorted(
        set(
            RoleGrant.objects.filter(
                role=Role.COMMUNITY_STAFF, area__path__in=prefixes
            ).values_list("user_id", flat=True)
        )
    )


# --- call lists -------------------------------------------------------------------------


@dataclass
class CallRow:
    care: SpecialCare
    days_overdue: int

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def _round_order(care: SpecialCare) -> tuple:
    household = care.household
    return (
        household.compound.name,
        natural_key(household.building.name),
        household.unit,
        natural_key(household.room),
        care.pk,
    )


def call_list(cares: QuerySet[SpecialCare], *, today: dt.date) -> list[CallRow]:
    """Who is due today or overdue: overdue first (longest first), then building by building.

    Within each group the order walks compound → building → entrance → room, so
    a round of calls follows the stairwells and a home visit can follow the calls.
    """
    rows = [
        CallRow(care=care, days_overdue=(today - care.due_on).days)
        for care in cares.filter(active=True, due_on__lte=today)
    ]
    rows.sort(
        key=lambda row: (
            not row.overdue,
            -row.days_overdue if row.overdue else 0,
            _round_order(row.care),
        )
    )
    return rows


def volunteer_cares(scope: Scope) -> QuerySet[SpecialCare]:
    """The records assigned to this user (a volunteer's own call list)."""
    return visible_cares(scope).filter(volunteers=scope.user)


def open_tasks(user: User) -> QuerySet[Task]:
    return (
        Task.objects.filter(assignee=user, state=Task.State.OPEN)
        .select_related("care__resident", "care__household__building", "need")
        .order_by("due", "pk")
    )


# --- the needs ledger and the dashboards --------------------------------------------------


def open_needs(area: Area) -> QuerySet[Need]:
    """Open needs under `area`, by category then oldest first (the ledger's order)."""
    return (
        Need.objects.filter(under(area), state__in=OPEN_NEED_STATES)
        .select_related("care__resident", "household__building", "handler", "order")
        .order_by("category", "created_at", "pk")
    )


@dataclass
class Counts:
    by_category: Counter = field(default_factory=Counter)
    residents: int = 0
    called_today: int = 0
    due_today: int = 0
    overdue: int = 0
    open_needs: int = 0
    needs_by_category: Counter = field(default_factory=Counter)
    door_deliveries: int = 0

    def category_rows(self) -> list[tuple[str, int]]:
        return [(label, self.by_category.get(value, 0)) for value, label in Category.choices]

    def need_rows(self) -> list[tuple[str, int]]:
        return [
            (label, self.needs_by_category.get(value, 0)) for value, label in NeedCategory.choices
        ]


def area_counts(area: Area, children: list[Area], *, today: dt.date) -> tuple[Counts, list]:
    """Counts for `area` and for each child area, from four grouped reads (no names)."""
    total = Counts()
    per_child = {child.path: Counts() for child in children}

    def owner(path: str) -> Counts | None:
        for child_path, counts in per_child.items():
            if path.startswith(child_path):
                return counts
        return None

    def add(path: str, fn) -> None:
        fn(total)
        child = owner(path)
        if child is not None:
            fn(child)

    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    cares = SpecialCare.objects.filter(under(area), active=True)
    for path, categories, due_on in cares.values_list(
        "household__building__path", "categories", "due_on"
    ):

        def person(c: Counts, categories=categories, due_on=due_on) -> None:
            c.residents += 1
            c.by_category.update(categories)
            c.due_today += due_on == today
            c.overdue += due_on < today

        add(path, person)
    for path in CheckIn.objects.filter(
        under(area, "care__household__building__"), called_at__gte=start
    ).values_list("care__household__building__path", flat=True):
        add(path, lambda c: setattr(c, "called_today", c.called_today + 1))
    for path, category in open_needs(area).values_list("household__building__path", "category"):

        def need(c: Counts, category=category) -> None:
            c.open_needs += 1
            c.needs_by_category[category] += 1

        add(path, need)
    for path in Task.objects.filter(
        under(area, "care__household__building__"),
        kind=Task.Kind.DOOR_DELIVERY,
        state=Task.State.OPEN,
    ).values_list("care__household__building__path", flat=True):
        add(path, lambda c: setattr(c, "door_deliveries", c.door_deliveries + 1))
    return total, [(child, per_child[child.path]) for child in children]


def people_rows(area: Area) -> QuerySet[SpecialCare]:
    """The people list of an area in round-of-calls order (details: callers must log reads)."""
    return (
        SpecialCare.objects.filter(under(area), active=True)
        .select_related("resident", "household__building", "household__compound")
        .prefetch_related("volunteers")
        .order_by(
            "household__compound__name",
            "household__building__path",
            "household__unit",
            "household__room",
            "pk",
        )
    )


def access_log(area: Area, *, limit: int = 200) -> QuerySet[AccessLog]:
    return (
        AccessLog.objects.filter(under(area, "care__household__building__"))
        .select_related("user", "care__resident", "care__household__building")
        .order_by("-at", "-pk")[:limit]
    )


def volunteers_near(area: Area) -> QuerySet:
    """Active volunteers granted anywhere under `area` (the community): who may be assigned."""
    from baogong.accounts.models import User

    grants = RoleGrant.objects.filter(role=Role.VOLUNTEER, area__path__startswith=area.path)
    return User.objects.filter(pk__in=grants.values("user_id"), is_active=True).order_by("name")


# Which kind of package meets which kind of need, for pre-filling an order on behalf.
_PACKAGE_FOR_NEED = {
    NeedCategory.GRAIN: "grain_oil",
    NeedCategory.OIL: "grain_oil",
    NeedCategory.MEAT: "meat_eggs",
    NeedCategory.EGGS: "meat_eggs",
    NeedCategory.MILK: "daily_goods",
    NeedCategory.WATER: "daily_goods",
    NeedCategory.VEGETABLES: "vegetables",
    NeedCategory.MEDICINE: "medicine",
}


def prefill(offers: list, needs: list[Need]) -> dict[int, int]:
    """Offer id → quantity 1 for each offer whose package or contents meet an open need.

    An item named in the need (大米) matched in a package's name or lines wins over
    the category; the caller still checks and changes the quantities before placing.
    """
    chosen: dict[int, int] = {}
    for need in needs:
        match = None
        if need.item:
            match = next(
                (
                    o
                    for o in offers
                    if need.item in o.package.name
                    or any(need.item in line.item for line in o.package.lines.all())
                ),
                None,
            )
        if match is None:
            kind = _PACKAGE_FOR_NEED.get(need.category)
            match = next((o for o in offers if kind and o.package.category == kind), None)
        if match is not None:
            chosen[match.pk] = min(match.per_household_limit, max(chosen.get(match.pk, 0), 1))
    return chosen
