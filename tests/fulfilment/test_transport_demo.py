from __future__ import annotations

import pytest

from baogong.demo.services import demo_load
from baogong.fulfilment import passes
from baogong.fulfilment.demo_transport import PLATES, demo_transport
from baogong.fulfilment.models import Attestation, Trip, VehiclePass
from baogong.lastmile.models import Delivery
from baogong.orders.models import Round
from tests.demo.conftest import fast_passwords  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def test_demo_has_passes_of_each_status_and_a_trip_on_its_way(fast_passwords):  # noqa: F811
    district = demo_load().district
    status = {
        p.vehicle.plate: passes.pass_status(p)
        for p in VehiclePass.objects.select_related("vehicle")
    }
    assert status[PLATES["valid"]] == passes.VALID
    assert status[PLATES["expired"]] == passes.EXPIRED
    assert status[PLATES["revoked"]] == passes.REVOKED
    trip = Trip.objects.get(vehicle__plate=PLATES["valid"])
    assert trip.state == Trip.State.DISPATCHED
    assert Attestation.objects.filter(trip=trip).count() == 2
    round_ = Round.objects.filter(deliveries__stops__trip=trip).distinct().get()
    assert round_.state == Round.State.DISPATCHED
    assert Delivery.objects.filter(stops__trip=trip, state=Delivery.State.ON_THE_WAY).exists()
    before = (Trip.objects.count(), VehiclePass.objects.count(), Attestation.objects.count())
    assert demo_transport(district) == 0
    assert (
        Trip.objects.count(),
        VehiclePass.objects.count(),
        Attestation.objects.count(),
    ) == before
