"""Transport writes racing each other on PostgreSQL: each happens once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone

from baogong.core.errors import DomainError
from baogong.fulfilment import passes, trips
from baogong.fulfilment import services as fulfilment_services
from baogong.fulfilment.models import Trip, VehiclePass
from baogong.orders.models import Round
from baogong.supply.models import SupplierArea
from tests.fulfilment.conftest import close
from tests.fulfilment.transport_world import declare_all, make_fleet, plan_trip, stop_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 4


def race(calls) -> list[object]:
    """Run the calls at the same moment, each in its own thread and connection."""
    start = threading.Barrier(len(calls))

    def run(call):
        try:
            start.wait()
            try:
                return call()
            except DomainError as error:
                return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_double_tapped_dispatch_sends_the_trip_and_its_round_once(tree, supplier, filled_round):
    now = timezone.now()
    round_ = close(filled_round.round)
    fulfilment_services.round_confirm(round_=round_, available={}, by=None)
    round_.refresh_from_db()
    SupplierArea.objects.create(supplier=supplier, area=tree.district)
    fleet = make_fleet(supplier, tree.district, now=now, plate="鄂F12345")
    trip = plan_trip(fleet, [stop_at(tree.compound_a, now=now, rounds=[round_])], now=now)
    declare_all(trip, now=now)
    results = race([lambda: trips.trip_dispatch(trip=trip, by=None, now=now)] * THREADS)
    assert all(isinstance(r, Trip) for r in results), results
    assert Trip.objects.get(pk=trip.pk).state == Trip.State.DISPATCHED
    round_.refresh_from_db()
    assert round_.state == Round.State.DISPATCHED
    assert round_.history.filter(history_change_reason="dispatch").count() == 1


def test_passes_issued_at_once_get_distinct_numbers(tree, supplier):
    now = timezone.now()
    fleet = make_fleet(supplier, tree.street_a, now=now, plate="鄂F12345")
    results = race(
        [
            lambda: passes.pass_issue(
                vehicle=fleet.vehicle,
                valid_from=fleet.vehicle_pass.valid_from,
                valid_to=fleet.vehicle_pass.valid_to,
                areas=[tree.street_a],
                by=None,
            )
        ]
        * THREADS
    )
    assert all(isinstance(r, VehiclePass) for r in results), results
    assert VehiclePass.objects.values("number").distinct().count() == THREADS + 1
