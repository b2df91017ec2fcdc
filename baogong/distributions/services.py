"""Writes of free distributions: create or change one while it is a draft, commit its plan.

Committing writes, in one transaction, an `Allocation` per servable household (served:
PLANNED, left out: WAITING), one `lastmile.Delivery` per compound and a bag per served
household with a fresh pickup code; the allocations then point at their bags (BAGGED).
Committing again does nothing new: it only bags allocations still PLANNED. A committed
distribution then follows its deliveries (distribution_follow_deliveries): being handed
out once one has left, closed once every one is done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Area
from baogong.core.bulk import insert_rows
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.distributions.models import (
    Allocation,
    Distribution,
    Package,
    SizeBand,
)
from baogong.distributions.planning import Band, Plan, distribution_plan
from baogong.lastmile.bags import NewBag, bags_add
from baogong.lastmile.models import Bag, Delivery
from baogong.orders.pickup import new_pickup_code

if TYPE_CHECKING:
    import datetime as dt

    from baogong.accounts.models import User
    from baogong.requisitions.models import AllocationOrder

# A code collision within a delivery is rare (25^6 codes); a few retries always suffice.
CODE_ATTEMPTS = 5
ORGANISER_KINDS = (Area.Kind.DISTRICT, Area.Kind.STREET, Area.Kind.COMMUNITY)


@dataclass(frozen=True)
class PackageSpec:
    name: str
    contents: str
    quantity: int


@dataclass(frozen=True)
class DistributionSpec:
    title: str
    source: str
    targets: Sequence[Area]
    package: PackageSpec
    rule: str = Distribution.Rule.PER_HOUSEHOLD
    bands: Sequence[Band] = ()
    donor_name: str = ""
    special_extra_packs: int = 0
    special_package: PackageSpec | None = None
    waiting_from: Distribution | None = None
    allocation_order: AllocationOrder | None = None


def _audited(obj, *, by: User | None, reason: str) -> None:
    obj._history_user = by
    obj._change_reason = reason
    obj.save()


def organiser_of(targets: Sequence[Area]) -> Area:
    """The lowest street/community/district above (or at) every target."""
    paths = [t.path for t in targets]
    common = paths[0]
    for path in paths[1:]:
        while not path.startswith(common):
            common = common[: common.rstrip("/").rfind("/") + 1]
    ids = [int(p) for p in common.strip("/").split("/") if p]
    ancestors = {a.pk: a for a in Area.objects.filter(pk__in=ids)}
    for pk in reversed(ids):
        if ancestors[pk].kind in ORGANISER_KINDS:
            return ancestors[pk]
    raise InvalidInput(_("The target areas have no street or community above them."))


def check_bands(bands: Sequence[Band]) -> list[Band]:
    """Bands must run from 1 person without gaps or overlaps, the last one open-ended."""
    bands = sorted(bands, key=lambda b: b.min_members)
    if not bands:
        raise InvalidInput(_("Size bands: give at least one band, e.g. 1-2:1, 3-4:2, 5+:3."))
    expected = 1
    for i, band in enumerate(bands):
        if band.min_members != expected:
            raise InvalidInput(
                _("Size bands: the band starting at %(n)s people should start at %(m)s."),
                n=band.min_members,
                m=expected,
            )
        if band.packs < 1:
            raise InvalidInput(_("Size bands: every band gives at least 1 pack."))
        last = i == len(bands) - 1
        if band.max_members is None:
            if not last:
                raise InvalidInput(_("Size bands: only the last band may be open-ended (5+)."))
            break
        if band.max_members < band.min_members:
            raise InvalidInput(
                _("Size bands: %(a)s-%(b)s is not a range of people."),
                a=band.min_members,
                b=band.max_members,
            )
        if last:
            raise InvalidInput(_("Size bands: the last band must be open-ended, e.g. 5+:3."))
        expected = band.max_members + 1
    return bands


def _check(spec: DistributionSpec) -> None:
    if not spec.title.strip():
        raise InvalidInput(_("Title: enter a title."))
    if spec.source not in Distribution.Source.values:
        raise InvalidInput(_("Source: choose where the packages come from."))
    if spec.source == Distribution.Source.DONATION and not spec.donor_name.strip():
        raise InvalidInput(_("Donor: enter the donor's name for a donation."))
    if not spec.targets:
        raise InvalidInput(_("Target areas: choose at least one area."))
    for package in filter(None, [spec.package, spec.special_package]):
        if not package.name.strip():
            raise InvalidInput(_("Package: enter the package's name."))
        if package.quantity < 0:
            raise InvalidInput(_("Packs available: enter 0 or more."))
    if spec.special_package and spec.special_package.name.strip() == spec.package.name.strip():
        raise InvalidInput(_("Special-group package: give it a name of its own."))
    if spec.rule == Distribution.Rule.SIZE_BANDS:
        check_bands(spec.bands)
    if spec.special_extra_packs < 0 or spec.special_extra_packs > 10:
        raise InvalidInput(_("Extra packs for special groups: enter 0 to 10."))


def _apply(distribution: Distribution, spec: DistributionSpec, *, by: User | None) -> None:
    """Write packages, bands and targets of a draft from `spec` (the draft is saved already)."""
    distribution.targets.set(spec.targets)
    wanted = [spec.package] + ([spec.special_package] if spec.special_package else [])
    kept = []
    for position, package_spec in enumerate(wanted):
        package = distribution.packages.filter(position=position).first() or Package(
            distribution=distribution, position=position
        )
        package.name = package_spec.name.strip()
        package.contents = package_spec.contents.strip()
        package.quantity_available = package_spec.quantity
        _audited(package, by=by, reason="distribution edited")
        kept.append(package.pk)
    distribution.special_package = Package.objects.get(pk=kept[1]) if spec.special_package else None
    distribution.packages.exclude(pk__in=kept).delete()
    distribution.bands.all().delete()
    if spec.rule == Distribution.Rule.SIZE_BANDS:
        SizeBand.objects.bulk_create(
            SizeBand(
                distribution=distribution,
                min_members=b.min_members,
                max_members=b.max_members,
                packs=b.packs,
            )
            for b in check_bands(spec.bands)
        )
    _audited(distribution, by=by, reason="distribution edited")


def _fields(distribution: Distribution, spec: DistributionSpec) -> None:
    distribution.title = spec.title.strip()
    distribution.source = spec.source
    distribution.donor_name = spec.donor_name.strip()
    distribution.rule = spec.rule
    distribution.special_extra_packs = spec.special_extra_packs
    distribution.waiting_from = spec.waiting_from
    distribution.allocation_order = spec.allocation_order
    distribution.organiser = organiser_of(spec.targets)


@transaction.atomic
def distribution_create(*, spec: DistributionSpec, by: User | None) -> Distribution:
    """A new draft distribution. Scope (may `by` plan for these targets?) is the view's check."""
    _check(spec)
    distribution = Distribution(created_by=by)
    _fields(distribution, spec)
    _audited(distribution, by=by, reason="distribution created")
    _apply(distribution, spec, by=by)
    return distribution


@transaction.atomic
def distribution_update(*, distribution: Distribution, spec: DistributionSpec, by: User | None):
    """Change a draft; once its bags are made it can no longer change (Conflict)."""
    distribution = Distribution.objects.select_for_update().get(pk=distribution.pk)
    if distribution.state != Distribution.State.DRAFT:
        raise Conflict(_("The bags of this distribution are made: it can no longer be changed."))
    _check(spec)
    _fields(distribution, spec)
    _apply(distribution, spec, by=by)
    return distribution


@dataclass
class CommitResult:
    allocations: int  # written by this call
    waiting: int  # of those, left out (waiting list)
    bags: int  # bags made by this call
    deliveries: int  # compounds with a delivery of this distribution


def _write_allocations(distribution: Distribution, plan: Plan) -> tuple[int, int]:
    now = timezone.now()
    planned, waiting = Allocation.State.PLANNED, Allocation.State.WAITING
    rows = [
        (
            now,
            now,
            distribution.pk,
            line.household_id,
            line.compound_id,
            line.building_id,
            line.package_id,
            line.packs,
            line.special,
            line.priority,
            line.rank,
            planned if line.served else waiting,
        )
        for line in plan.lines
    ]
    insert_rows(
        Allocation,
        [
            "created_at",
            "updated_at",
            "distribution_id",
            "household_id",
            "compound_id",
            "building_id",
            "package_id",
            "packs",
            "special",
            "priority",
            "rank",
            "state",
        ],
        rows,
    )
    return len(rows), sum(1 for line in plan.lines if not line.served)


def _bag_compound(delivery: Delivery, allocations: list[tuple[int, int, int]]) -> int:
    """Bags for (household, building, packs) in `delivery`, each with a code unique in it."""
    taken = set(Bag.objects.filter(delivery=delivery).values_list("pickup_code", flat=True))
    have = set(Bag.objects.filter(delivery=delivery).values_list("household_id", flat=True))
    todo = [a for a in allocations if a[0] not in have]
    made = 0
    for _attempt in range(CODE_ATTEMPTS):
        if not todo:
            return made
        bags = []
        for household_id, building_id, packs in todo:
            code = new_pickup_code()
            while code in taken:
                code = new_pickup_code()
            taken.add(code)
            bags.append(NewBag(household_id, building_id, code, packs=packs))
        # bags_add skips conflicts silently: count what landed and retry the rest.
        made += bags_add(delivery, bags)
        have = set(Bag.objects.filter(delivery=delivery).values_list("household_id", flat=True))
        taken = set(Bag.objects.filter(delivery=delivery).values_list("pickup_code", flat=True))
        todo = [a for a in todo if a[0] not in have]
    if todo:
        raise Conflict(_("Could not give every bag a unique pickup code. Try again."))
    return made


@transaction.atomic
def distribution_commit(
    *, distribution: Distribution, by: User | None, now: dt.datetime | None = None
) -> CommitResult:
    """Freeze the plan and make the bags (see module). Idempotent under retries and double
    submits: the distribution row is locked, and a committed one only gets missing bags."""
    distribution = Distribution.objects.select_for_update().get(pk=distribution.pk)
    if distribution.state == Distribution.State.CLOSED:
        raise Conflict(_("This distribution is closed."))
    written = waiting = 0
    if distribution.state == Distribution.State.DRAFT:
        plan = distribution_plan(distribution)
        if not plan.lines:
            raise InvalidInput(_("Nobody to serve: the target areas have no servable household."))
        if not distribution.packages.exists():
            raise InvalidInput(_("Package: add the package first."))
        written, waiting = _write_allocations(distribution, plan)
        distribution.state = Distribution.State.PLANNED
        distribution.committed_at = now or timezone.now()
        _audited(distribution, by=by, reason="plan committed: bags made")
    todo: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for household_id, compound_id, building_id, packs in Allocation.objects.filter(
        distribution=distribution, state=Allocation.State.PLANNED
    ).values_list("household_id", "compound_id", "building_id", "packs"):
        todo[compound_id].append((household_id, building_id, packs))
    made = 0
    for compound_id, allocations in sorted(todo.items()):
        delivery, _created = Delivery.objects.get_or_create(
            distribution=distribution, compound_id=compound_id
        )
        made += _bag_compound(delivery, allocations)
    bag = Bag.objects.filter(distribution=distribution, household_id=OuterRef("household_id"))
    Allocation.objects.filter(distribution=distribution, state=Allocation.State.PLANNED).update(
        bag_id=Subquery(bag.values("pk")[:1]), state=Allocation.State.BAGGED
    )
    if distribution.waiting_from_id:
        served = Allocation.objects.filter(
            distribution=distribution, state=Allocation.State.BAGGED
        ).values("household_id")
        Allocation.objects.filter(
            distribution_id=distribution.waiting_from_id,
            state=Allocation.State.WAITING,
            served_in__isnull=True,
            household_id__in=served,
        ).update(served_in=distribution)
    return CommitResult(
        allocations=written,
        waiting=waiting,
        bags=made,
        deliveries=Delivery.objects.filter(distribution=distribution).count(),
    )


def check_targets_allowed(targets: Sequence[Area], allowed) -> None:
    """Every target must be inside `allowed` (the user's planning scope, an Area queryset)."""
    ids = {t.pk for t in targets}
    if allowed.filter(pk__in=ids).count() != len(ids):
        raise NotAllowed(_("You may plan distributions only for areas you look after."))


def distribution_follow_deliveries(distribution_id: int, *, by: User | None) -> None:
    """Move a committed distribution along with its compound deliveries: PLANNED while all
    are being prepared, DELIVERING once one has left, CLOSED once every one is done.

    Runs after a delivery's change commits, in a transaction of its own that locks only
    the distribution's row (lastmile.bags.deliveries_moved): no delivery's row is locked
    while it waits for that one, so it cannot deadlock with distribution_commit, which
    locks the distribution and then adds bags to its deliveries.
    """
    with transaction.atomic():
        distribution = Distribution.objects.select_for_update().filter(pk=distribution_id).first()
        if distribution is None or distribution.state == Distribution.State.DRAFT:
            return
        states = set(
            Delivery.objects.filter(distribution_id=distribution_id).values_list("state", flat=True)
        )
        if states == {Delivery.State.DONE}:
            target = Distribution.State.CLOSED
        elif states - {Delivery.State.PREPARING}:
            target = Distribution.State.DELIVERING
        else:
            target = Distribution.State.PLANNED
        if distribution.state != target:
            distribution.state = target
            _audited(distribution, by=by, reason=f"deliveries: {target}")
