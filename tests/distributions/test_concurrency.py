"""A household gets a distribution's bag once, even when two volunteers scan it at once."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connections, transaction

from baogong.accounts.models import Role
from baogong.core.errors import Conflict
from baogong.distributions import services
from baogong.lastmile.handover import bag_by_code, bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.requisitions.models import DistributionEntry
from tests.factories import UserFactory, grant


def received_bag(street) -> Bag:
    distribution = street.distribution()
    services.distribution_commit(distribution=distribution, by=None)
    bag = Bag.objects.filter(distribution=distribution, building=street.buildings[0]).first()
    # The gate check is not what this test is about: the bag is simply on hand.
    Bag.objects.filter(pk=bag.pk).update(gate_state=Bag.GateState.RECEIVED)
    return bag


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_volunteers_scanning_one_bag_at_once_hand_it_over_once(street):
    bag = received_bag(street)
    volunteers = [UserFactory(), UserFactory()]
    for volunteer in volunteers:
        grant(volunteer, Role.VOLUNTEER, area=bag.building)
    start = threading.Barrier(len(volunteers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan(volunteer) -> None:
        try:
            found = bag_by_code(delivery=Delivery(pk=bag.delivery_id), code=bag.pickup_code)
            start.wait()
            try:
                bag_hand_over(bag=found, method=Handover.Method.SCANNED, by=volunteer)
                result = "handed over"
            except Conflict as refusal:
                result = str(refusal.message)
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan, args=(v,)) for v in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("handed over") == 1
    refusal = next(o for o in outcomes if o != "handed over")
    assert "already used" in refusal
    assert Handover.objects.filter(bag=bag).count() == 1
    assert DistributionEntry.objects.filter(bag=bag).count() == 1
    assert DistributionEntry.objects.filter(to_household=bag.household_id).count() == 1
    assert Bag.objects.get(pk=bag.pk).state == Bag.State.COLLECTED


def test_the_database_refuses_a_second_bag_for_a_household_in_one_distribution(street):
    bag = received_bag(street)
    other = Delivery.objects.get(distribution=bag.distribution, compound=street.compound_b)
    with pytest.raises(IntegrityError), transaction.atomic():
        Bag.objects.create(
            delivery=other,
            distribution=bag.distribution,
            household=bag.household,
            building=bag.building,
            pickup_code="ZZZZZZ",
        )
    assert Bag.objects.filter(distribution=bag.distribution, household=bag.household).count() == 1
