"""Committing a plan: allocations, deliveries and bags, the waiting list, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from baogong.areas.models import Area, Household
from baogong.core.errors import Conflict, InvalidInput
from baogong.distributions import services
from baogong.distributions.models import Allocation, Distribution
from baogong.distributions.planning import Band, distribution_plan
from baogong.lastmile.models import Bag, Delivery
from baogong.welfare.models import SpecialCare
from tests.distributions.conftest import DEFAULT_BANDS
from tests.factories import HouseholdFactory, ResidentFactory


def test_organiser_is_the_lowest_street_or_community_above_the_targets(street):
    d = street.distribution(targets=[street.compound_a, street.buildings[2]])
    assert d.organiser == street.community
    assert street.distribution(targets=[street.street]).organiser == street.street


def test_commit_makes_a_delivery_per_compound_and_a_bag_per_household(street):
    d = street.distribution(rule=Distribution.Rule.SIZE_BANDS, bands=DEFAULT_BANDS)
    result = services.distribution_commit(distribution=d, by=None)
    assert (result.allocations, result.waiting, result.bags, result.deliveries) == (7, 0, 7, 2)
    d.refresh_from_db()
    assert d.state == Distribution.State.PLANNED and d.committed_at
    bags = Bag.objects.filter(distribution=d)
    assert set(bags.values_list("delivery__compound__name", flat=True)) == {"春园小区", "秋园小区"}
    packs = {b.household.members_count: b.packs for b in bags.select_related("household")}
    assert packs == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3}
    # Every allocation points at its own household's bag; codes are unique per delivery.
    for allocation in Allocation.objects.filter(distribution=d).select_related("bag"):
        assert allocation.state == Allocation.State.BAGGED
        assert allocation.bag.household_id == allocation.household_id
    for delivery in Delivery.objects.filter(distribution=d):
        codes = list(delivery.bags.values_list("pickup_code", flat=True))
        assert len(codes) == len(set(codes))
    # The sealed building's households get their bags at the door.
    sealed = bags.filter(building=street.buildings[2])
    assert sealed.count() == 2 and all(b.door_delivery for b in sealed)


def test_commit_is_idempotent(street):
    d = street.distribution()
    services.distribution_commit(distribution=d, by=None)
    again = services.distribution_commit(distribution=d, by=None)
    assert (again.allocations, again.bags) == (0, 0)
    assert Bag.objects.filter(distribution=d).count() == 7
    assert Allocation.objects.filter(distribution=d).count() == 7


def test_commit_bags_allocations_left_planned(street):
    """A committed distribution whose bags were not all made gets the missing ones."""
    d = street.distribution()
    services.distribution_commit(distribution=d, by=None)
    allocation = Allocation.objects.filter(distribution=d).first()
    Allocation.objects.filter(pk=allocation.pk).update(state=Allocation.State.PLANNED, bag=None)
    Bag.objects.filter(distribution=d, household_id=allocation.household_id).delete()
    result = services.distribution_commit(distribution=d, by=None)
    assert result.bags == 1
    allocation.refresh_from_db()
    assert allocation.state == Allocation.State.BAGGED and allocation.bag_id


def test_a_household_gets_one_allocation_and_one_bag_per_distribution(street):
    d = street.distribution()
    services.distribution_commit(distribution=d, by=None)
    allocation = Allocation.objects.filter(distribution=d).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            distribution=d,
            household_id=allocation.household_id,
            compound_id=allocation.compound_id,
            building_id=allocation.building_id,
            package_id=allocation.package_id,
            packs=1,
            priority=1,
            rank=99,
            state=Allocation.State.PLANNED,
        )
    other = Delivery.objects.filter(distribution=d).exclude(pk=allocation.bag.delivery_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Bag.objects.create(
            delivery=other,
            household_id=allocation.household_id,
            building_id=allocation.building_id,
            distribution=d,
            pickup_code="XXXXXX",
        )


def test_shortfall_puts_households_on_the_waiting_list_and_the_next_batch_serves_them(street):
    first = street.distribution(package=services.PackageSpec("保供包", "大米", 4))
    result = services.distribution_commit(distribution=first, by=None)
    assert (result.bags, result.waiting) == (4, 3)
    waiting = set(
        Allocation.objects.filter(distribution=first, state=Allocation.State.WAITING).values_list(
            "household_id", flat=True
        )
    )
    # The sealed building's two households were served first.
    sealed = set(
        Household.objects.filter(building=street.buildings[2]).values_list("pk", flat=True)
    )
    assert not waiting & sealed
    assert not Bag.objects.filter(distribution=first, household_id__in=waiting).exists()
    second = street.distribution(
        title="第2批", package=services.PackageSpec("保供包", "大米", 3), waiting_from=first
    )
    plan = distribution_plan(second)
    assert {line.household_id for line in plan.served} == waiting
    services.distribution_commit(distribution=second, by=None)
    served_in = Allocation.objects.filter(distribution=first, state=Allocation.State.WAITING)
    assert {a.served_in_id for a in served_in} == {second.pk}


def test_special_care_register_counts_as_special_group(street):
    household = street.households[0]
    resident = ResidentFactory(household=household)
    SpecialCare.objects.create(
        resident=resident, household=household, categories=["disabled"], due_on=dt.date(2026, 3, 1)
    )
    flagged = street.households[1]
    ResidentFactory(household=flagged, needs_door_delivery=True)
    d = street.distribution(special_extra_packs=1)
    plan = distribution_plan(d)
    special = {line.household_id: line.packs for line in plan.lines if line.special}
    assert special == {household.pk: 2, flagged.pk: 2}


def test_special_package_goes_to_special_groups(street):
    household = street.households[0]
    ResidentFactory(household=household, special_group=True)
    d = street.distribution(special_package=services.PackageSpec("老人关爱包", "奶粉 ×1", 5))
    services.distribution_commit(distribution=d, by=None)
    allocation = Allocation.objects.get(distribution=d, household=household)
    assert allocation.package == d.special_package
    assert allocation.bag.door_delivery


def test_listed_buildings_are_the_only_targets(street):
    d = street.distribution(targets=[street.buildings[0]])
    plan = distribution_plan(d)
    assert {line.building_id for line in plan.lines} == {street.buildings[0].pk}


def test_unservable_households_get_no_allocation(street):
    building = street.buildings[0]
    HouseholdFactory(building=building, unit="1", room="")
    HouseholdFactory(building=building, unit="1单元", room="101室")  # same as 1-101
    d = street.distribution()
    plan = distribution_plan(d)
    assert len(plan.unservable) == 3
    services.distribution_commit(distribution=d, by=None)
    assert Allocation.objects.filter(distribution=d).count() == 6


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": " "}, "Title"),
        ({"targets": []}, "Target areas"),
        ({"source": "donation"}, "Donor"),
        ({"rule": "size_bands", "bands": [Band(2, None, 1)]}, "should start at 1"),
        ({"rule": "size_bands", "bands": [Band(1, 2, 1), Band(3, 4, 2)]}, "open-ended"),
        ({"rule": "size_bands", "bands": [Band(1, None, 1), Band(2, None, 2)]}, "only the last"),
        ({"package": services.PackageSpec("", "", 1)}, "Package"),
        ({"special_extra_packs": 11}, "0 to 10"),
    ],
)
def test_bad_input_is_refused_naming_the_field(street, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        street.distribution(**overrides)


def test_a_committed_distribution_can_no_longer_change(street):
    d = street.distribution()
    services.distribution_commit(distribution=d, by=None)
    with pytest.raises(Conflict):
        services.distribution_update(distribution=d, spec=street.spec(title="x"), by=None)


def test_nobody_to_serve_is_refused(street):
    empty = Area.objects.create(
        kind=Area.Kind.COMPOUND, parent=street.community, name="空小区", path=""
    )
    empty.path = f"{street.community.path}{empty.pk}/"
    empty.save()
    d = street.distribution(targets=[empty])
    with pytest.raises(InvalidInput, match="Nobody to serve"):
        services.distribution_commit(distribution=d, by=None)
    d.refresh_from_db()
    assert d.state == Distribution.State.DRAFT
