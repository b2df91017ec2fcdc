from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Containment
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.fulfilment import passes, transport, trips
from baogong.fulfilment import services as fulfilment_services
from baogong.fulfilment.models import Stop, Trip
from baogong.lastmile.models import Delivery
from baogong.orders.models import Round
from baogong.supply.models import SupplierArea
from tests.factories import UserFactory, grant
from tests.fulfilment.conftest import close
from tests.fulfilment.transport_world import (
    declare,
    declare_all,
    gate_of,
    make_fleet,
    plan_trip,
    stop_at,
)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def confirmed(filled_round):
    round_ = close(filled_round.round)
    fulfilment_services.round_confirm(round_=round_, available={}, by=None)
    round_.refresh_from_db()
    return round_


@pytest.fixture
def fleet(tree, supplier, now):
    SupplierArea.objects.create(supplier=supplier, area=tree.district)
    return make_fleet(supplier, tree.district, now=now, plate="鄂F12345")


@pytest.fixture
def trip(tree, fleet, confirmed, now):
    return plan_trip(
        fleet,
        [
            stop_at(tree.compound_a, now=now, rounds=[confirmed]),
            stop_at(tree.compound_b, now=now, rounds=[confirmed]),
        ],
        now=now,
    )


def test_trip_create_carries_each_stops_compound_delivery(trip, tree, confirmed):
    first, second = trip.stops.order_by("position")
    assert [d.compound for d in first.deliveries.all()] == [tree.compound_a]
    assert [d.compound for d in second.deliveries.all()] == [tree.compound_b]
    assert Delivery.objects.get(round=confirmed, compound=tree.compound_a).bags.count() == 4
    assert trip.state == Trip.State.PLANNED
    assert trip.number.startswith("CC")


def test_trip_create_refuses_a_round_that_is_not_confirmed(tree, fleet, filled_round, now):
    with pytest.raises(InvalidInput, match="only a confirmed round"):
        plan_trip(fleet, [stop_at(tree.compound_a, now=now, rounds=[filled_round.round])], now=now)
    assert not Trip.objects.exists()


def test_trip_create_refuses_another_fleets_vehicle(tree, fleet, confirmed, now):
    stranger = UserFactory()
    with pytest.raises(NotAllowed):
        plan_trip(fleet, [stop_at(tree.compound_a, now=now)], now=now, by=stranger)


def test_dispatch_moves_deliveries_and_the_round(trip, confirmed, now):
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    trip.refresh_from_db()
    confirmed.refresh_from_db()
    assert trip.state == Trip.State.DISPATCHED and trip.dispatched_at == now
    assert confirmed.state == Round.State.DISPATCHED
    states = set(Delivery.objects.filter(round=confirmed).values_list("state", flat=True))
    assert states == {Delivery.State.ON_THE_WAY}
    # A double tap changes nothing.
    assert trips.trip_dispatch(trip=trip, by=None, now=now).state == Trip.State.DISPATCHED


def test_the_supplier_dispatches_its_own_trip(trip, supplier, confirmed, now):
    user = UserFactory()
    grant(user, Role.SUPPLIER, supplier=supplier)
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=user, now=now)
    confirmed.refresh_from_db()
    assert confirmed.history.first().history_user == user
    other = UserFactory()
    with pytest.raises(NotAllowed):
        trips.trip_dispatch(trip=trip, by=other, now=now)


def refusal(trip, now) -> list[str]:
    with pytest.raises(trips.DispatchRefused) as caught:
        trips.trip_dispatch(trip=trip, by=None, now=now)
    return caught.value.reasons


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"health_code": "yellow"}, "司机甲: health code is yellow, not green"),
        ({"last_test_at_hours": 50}, "司机甲: last negative test"),
        ({"travel_ok": False}, "司机甲: 14-day travel record not confirmed"),
        ({"symptoms": True}, "司机甲: declared fever or symptoms"),
        ({"commitment_signed": False}, "司机甲: commitment not signed"),
    ],
)
def test_dispatch_names_the_failed_declaration_rule(trip, now, changes, expected):
    hours = changes.pop("last_test_at_hours", None)
    if hours is not None:
        # The window ends 3 h from now: 50 h before now is 53 h before the window's end.
        changes["last_test_at"] = now - dt.timedelta(hours=hours)
    declare_all(trip, now=now)
    declare(trip, trip.driver, now=now, **changes)
    reasons = refusal(trip, now)
    assert len(reasons) == 1 and reasons[0].startswith(expected)
    trip.refresh_from_db()
    assert trip.state == Trip.State.PLANNED
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.PREPARING}


def test_dispatch_test_window_is_measured_to_the_end_of_the_arrival_window(trip, now):
    declare_all(trip, now=now)
    # 46 h before now is 49 h before the window ends (now + 3 h): too old.
    declare(trip, trip.driver, now=now, last_test_at=now - dt.timedelta(hours=46))
    assert "more than 48 hours" in refusal(trip, now)[0]
    declare(trip, trip.driver, now=now, last_test_at=now - dt.timedelta(hours=44))
    trips.trip_dispatch(trip=trip, by=None, now=now)


def test_dispatch_names_the_crew_member_without_a_declaration(trip, fleet, now):
    declare(trip, fleet.driver, now=now)
    assert refusal(trip, now) == ["装卸乙: no health declaration for this trip"]


def test_dispatch_refuses_a_revoked_pass(trip, fleet, now):
    declare_all(trip, now=now)
    passes.pass_revoke(vehicle_pass=fleet.vehicle_pass, reason="车辆违规", by=None)
    assert refusal(trip, now) == [f"Pass {fleet.vehicle_pass.number} has been revoked"]


def test_dispatch_refuses_an_expired_pass(trip, fleet, now):
    declare_all(trip, now=now)
    later = now + dt.timedelta(days=8)
    [reason, *_] = refusal(trip, later)
    assert reason == f"Pass {fleet.vehicle_pass.number} has expired"


def test_dispatch_refuses_a_pass_ending_before_the_window(trip, fleet, now):
    declare_all(trip, now=now)
    fleet.vehicle_pass.valid_to = now + dt.timedelta(hours=2, minutes=30)
    fleet.vehicle_pass.save()
    assert "not valid for the whole trip" in refusal(trip, now)[0]


def test_dispatch_refuses_a_pass_not_covering_a_stop(trip, tree, fleet, now):
    declare_all(trip, now=now)
    fleet.vehicle_pass.areas.set([tree.street_a])
    assert refusal(trip, now) == [
        f"Pass {fleet.vehicle_pass.number} does not cover {tree.compound_b.name}"
    ]


def test_dispatch_refuses_a_trip_without_a_pass(trip, now):
    declare_all(trip, now=now)
    Trip.objects.filter(pk=trip.pk).update(vehicle_pass=None)
    assert refusal(trip, now) == ["No vehicle pass chosen for this trip"]


def test_a_sealed_compound_needs_an_approved_entry_request(trip, tree, fleet, now):
    declare_all(trip, now=now)
    tree.compound_a.containment = Containment.SEALED
    tree.compound_a.save()
    assert "is sealed: no approved entry request" in refusal(trip, now)[0]
    stop = trip.stops.get(position=1)
    entry = transport.entry_request_file(
        site=tree.community_a,
        vehicle=fleet.vehicle,
        crew=[fleet.driver, fleet.loader],
        cargo="保供套餐 4 袋",
        arrive_from=stop.window_from - dt.timedelta(minutes=30),
        arrive_to=stop.window_to,
        by=None,
        now=now - dt.timedelta(days=1),
    )
    assert "is sealed" in refusal(trip, now)[0]  # still pending
    transport.entry_request_decide(entry=entry, approve=True, by=None)
    trips.trip_dispatch(trip=trip, by=None, now=now)


def test_arrival_keeps_deliveries_on_the_way_until_the_gate_receipt(trip, now):
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    stop = trip.stops.get(position=1)
    trips.stop_arrive(stop=stop, by=None, now=now + dt.timedelta(hours=2))
    stop.refresh_from_db()
    trip.refresh_from_db()
    assert stop.state == Stop.State.ARRIVED and trip.state == Trip.State.ARRIVED
    assert {d.state for d in stop.deliveries.all()} == {Delivery.State.ON_THE_WAY}


def test_arrival_before_dispatch_is_refused(trip, now):
    with pytest.raises(Conflict, match="not been dispatched"):
        trips.stop_arrive(stop=trip.stops.first(), by=None, now=now)


def test_unloading_waits_for_the_rest_time_after_disinfection(trip, now):
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    at = now + dt.timedelta(hours=2)
    stops = list(trip.stops.order_by("position"))
    for stop in stops:
        trips.stop_arrive(stop=stop, by=None, now=at)
    with pytest.raises(Conflict, match="Disinfect"):
        trips.stop_unload(stop=stops[0], by=None, now=at)
    record = trips.disinfection_record(stop=stops[0], done_by="司机甲", done_at=at, by=None, now=at)
    assert (record.agent, record.dilution, record.rest_minutes) == ("84消毒液", "1:100", 30)
    with pytest.raises(Conflict, match="12 more minutes"):
        trips.stop_unload(stop=stops[0], by=None, now=at + dt.timedelta(minutes=18))
    stops[0].refresh_from_db()
    assert stops[0].state == Stop.State.ARRIVED
    trips.stop_unload(stop=stops[0], by=None, now=at + dt.timedelta(minutes=30))
    trip.refresh_from_db()
    assert trip.state == Trip.State.ARRIVED  # the second stop is still to unload
    trips.disinfection_record(stop=stops[1], done_by="装卸乙", done_at=at, by=None, now=at)
    trips.stop_unload(stop=stops[1], by=None, now=at + dt.timedelta(minutes=31))
    trip.refresh_from_db()
    assert trip.state == Trip.State.UNLOADED
    trips.trip_close(trip=trip, by=None, now=at + dt.timedelta(hours=1))
    trip.refresh_from_db()
    assert trip.state == Trip.State.CLOSED
    assert [h.history_change_reason for h in trip.history.order_by("history_date")][-1] == (
        "trip_close"
    )


def test_disinfection_in_the_future_is_refused(trip, now):
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    stop = trip.stops.first()
    trips.stop_arrive(stop=stop, by=None, now=now)
    with pytest.raises(InvalidInput, match="future"):
        trips.disinfection_record(
            stop=stop, done_by="x", done_at=now + dt.timedelta(hours=1), by=None, now=now
        )


def test_declaration_signing_time_is_the_servers(trip, now):
    attestation = declare(trip, trip.driver, now=now)
    assert attestation.signed_at == now
    unsigned = declare(trip, trip.driver, now=now, commitment_signed=False)
    assert unsigned.signed_at is None and unsigned.signed_name == ""
    with pytest.raises(InvalidInput, match="type your name"):
        declare(trip, trip.driver, now=now, signed_name=" ")
    with pytest.raises(InvalidInput, match="future"):
        declare(trip, trip.driver, now=now, last_test_at=now + dt.timedelta(hours=1))


def test_street_transport_team_dispatches_a_suppliers_round(tree, supplier, confirmed, now):
    staff = UserFactory()
    grant(staff, Role.STREET_STAFF, area=tree.street_a)
    owner = transport.Owner(street=tree.street_a)
    vehicle = transport.vehicle_save(
        owner=owner, plate="鄂F00001", kind="truck", capacity_bags=0, capacity_kg=0, by=staff
    )
    driver = transport.crew_save(
        owner=owner, name="街道司机", phone="17000002001", id_number="", by=staff
    )
    vehicle_pass = passes.pass_issue(
        vehicle=vehicle,
        valid_from=now - dt.timedelta(hours=1),
        valid_to=now + dt.timedelta(days=1),
        areas=[tree.street_a],
        by=staff,
    )
    assert vehicle_pass.authority == "街道a疫情防控指挥部"
    trip = trips.trip_create(
        vehicle=vehicle,
        vehicle_pass=vehicle_pass,
        driver=driver,
        departs_at=now,
        stops=[stop_at(tree.compound_a, now=now, rounds=[confirmed])],
        by=staff,
    )
    declare(trip, driver, now=now)
    trips.trip_dispatch(trip=trip, by=staff, now=now)
    confirmed.refresh_from_db()
    assert confirmed.state == Round.State.DISPATCHED
    assert gate_of(tree.compound_a).stops.get().trip == trip
