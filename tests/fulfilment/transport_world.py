"""Plain builders for transport tests and the permission matrix: a supplier's fleet with a
valid pass, a planned trip to a compound gate, and clean crew declarations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from baogong.areas.models import Area, Gate
from baogong.fulfilment import passes, transport, trips
from baogong.fulfilment.models import Attestation, CrewMember, Trip, Vehicle, VehiclePass
from baogong.supply.models import Supplier


@dataclass
class Fleet:
    vehicle: Vehicle
    driver: CrewMember
    loader: CrewMember
    vehicle_pass: VehiclePass


def make_fleet(supplier: Supplier, street: Area, *, now: dt.datetime, plate: str) -> Fleet:
    owner = transport.Owner(supplier=supplier)
    vehicle = transport.vehicle_save(
        owner=owner, plate=plate, kind="van", capacity_bags=200, capacity_kg=1500, by=None
    )
    driver = transport.crew_save(
        owner=owner, name="司机甲", phone="17000001001", id_number="42060119800101123X", by=None
    )
    loader = transport.crew_save(
        owner=owner, name="装卸乙", phone="17000001002", id_number="420601199001011234", by=None
    )
    vehicle_pass = passes.pass_issue(
        vehicle=vehicle,
        valid_from=now - dt.timedelta(days=1),
        valid_to=now + dt.timedelta(days=7),
        areas=[street],
        by=None,
    )
    return Fleet(vehicle, driver, loader, vehicle_pass)


def gate_of(compound: Area) -> Gate:
    return Gate.objects.get_or_create(compound=compound, name="东门")[0]


def plan_trip(fleet: Fleet, stops: list[trips.StopSpec], *, now: dt.datetime, by=None) -> Trip:
    return trips.trip_create(
        vehicle=fleet.vehicle,
        vehicle_pass=fleet.vehicle_pass,
        driver=fleet.driver,
        crew=[fleet.loader],
        departs_at=now + dt.timedelta(hours=1),
        stops=stops,
        by=by,
    )


def stop_at(compound: Area, *, now: dt.datetime, rounds=()) -> trips.StopSpec:
    return trips.StopSpec(
        place=gate_of(compound),
        window_from=now + dt.timedelta(hours=2),
        window_to=now + dt.timedelta(hours=3),
        rounds=list(rounds),
    )


def declare(trip: Trip, member: CrewMember, *, now: dt.datetime, **changes) -> Attestation:
    fields = {
        "health_code": "green",
        "travel_record": "樊城区",
        "travel_ok": True,
        "last_test_at": now - dt.timedelta(hours=20),
        "symptoms": False,
        "commitment_signed": True,
        "signed_name": member.name,
        **changes,
    }
    return trips.attestation_record(trip=trip, member=member, by=None, now=now, **fields)


def declare_all(trip: Trip, *, now: dt.datetime) -> None:
    for member in trips.trip_members(trip):
        declare(trip, member, now=now)
