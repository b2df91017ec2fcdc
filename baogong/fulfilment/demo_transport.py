"""Demo data for transport: the demo supplier's fleet (passes valid, expired and revoked),
a street office's own transport team, and a trip on its way with the confirmed demo round.

The demo's closed round (武商保供团购第2期) is confirmed here if it is still closed, so
the last-mile demos that follow have deliveries to receive. Idempotent: vehicles are
keyed by plate, and the trip is made once per demo vehicle.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from baogong.areas.models import Area, Containment, Gate
from baogong.fulfilment import passes, transport, trips
from baogong.fulfilment import services as fulfilment_services
from baogong.fulfilment.models import CrewMember, Trip, Vehicle
from baogong.orders.models import Round, RoundArea

DEMO_ROUND_TITLE = "武商保供团购第2期"
# Fake people, 170-range phones, made-up ID numbers (stored masked anyway).
DRIVER = ("刘建军", "17020000101", "420606198203041219")
LOADER = ("陈小峰", "17020000102", "420606199107223415")
STREET_DRIVER = ("赵志刚", "17020000103", "420602197811052317")
PLATES = {"valid": "鄂FB2201", "expired": "鄂FB2202", "revoked": "鄂FB2203"}
STREET_PLATE = "鄂FJ3301"


def _round(district: Area) -> Round | None:
    return (
        Round.objects.filter(
            title=DEMO_ROUND_TITLE,
            pk__in=RoundArea.objects.filter(area__path__startswith=district.path).values("round"),
        )
        .select_related("supplier")
        .order_by("pk")
        .first()
    )


def _street_of(area: Area) -> Area:
    while area.kind != Area.Kind.STREET and area.parent_id:
        area = area.parent
    return area


def _crew(owner: transport.Owner, person: tuple[str, str, str]) -> CrewMember:
    name, phone, id_number = person
    found = CrewMember.objects.filter(name=name, phone=phone).first()
    return found or transport.crew_save(
        owner=owner, name=name, phone=phone, id_number=id_number, by=None
    )


def _vehicle(owner: transport.Owner, plate: str, kind: str, bags: int, kg: int) -> Vehicle:
    return Vehicle.objects.filter(plate=plate).first() or transport.vehicle_save(
        owner=owner, plate=plate, kind=kind, capacity_bags=bags, capacity_kg=kg, by=None
    )


def _ensure_pass(vehicle: Vehicle, street: Area, now, *, days: tuple[int, int], revoke=False):
    if vehicle.passes.exists():
        return
    issued = passes.pass_issue(
        vehicle=vehicle,
        valid_from=now + dt.timedelta(days=days[0]),
        valid_to=now + dt.timedelta(days=days[1]),
        areas=[street],
        by=None,
    )
    if revoke:
        passes.pass_revoke(vehicle_pass=issued, reason="车辆年检过期，已停运", by=None)


@transaction.atomic
def demo_transport(district: Area) -> int:
    """Make the demo fleets and the trip on its way; return how many trips were made."""
    round_ = _round(district)
    if round_ is None:
        return 0
    if round_.state == Round.State.CLOSED:
        fulfilment_services.round_confirm(round_=round_, available={}, by=None)
        round_.refresh_from_db()
    compounds = list(
        Area.objects.filter(
            pk__in=RoundArea.objects.filter(round=round_).values("area"), kind=Area.Kind.COMPOUND
        ).order_by("path")
    )
    if not compounds:
        return 0
    street = _street_of(compounds[0])
    now = timezone.now()
    owner = transport.Owner(supplier=round_.supplier)
    driver, loader = _crew(owner, DRIVER), _crew(owner, LOADER)
    fleet = {
        "valid": _vehicle(owner, PLATES["valid"], Vehicle.Kind.LIGHT_TRUCK, 300, 2000),
        "expired": _vehicle(owner, PLATES["expired"], Vehicle.Kind.VAN, 120, 800),
        "revoked": _vehicle(owner, PLATES["revoked"], Vehicle.Kind.COLD_CHAIN, 200, 1500),
    }
    _ensure_pass(fleet["valid"], street, now, days=(-1, 14))
    _ensure_pass(fleet["expired"], street, now, days=(-30, -2))
    _ensure_pass(fleet["revoked"], street, now, days=(-3, 11), revoke=True)
    team = transport.Owner(street=street)
    street_vehicle = _vehicle(team, STREET_PLATE, Vehicle.Kind.TRICYCLE, 40, 300)
    _crew(team, STREET_DRIVER)
    _ensure_pass(street_vehicle, street, now, days=(-1, 14))
    if (
        round_.state not in trips.TRIP_ROUND_STATES
        or Trip.objects.filter(vehicle=fleet["valid"]).exists()
    ):
        return 0
    return _trip_on_its_way(round_, compounds, fleet["valid"], driver, loader, now)


def _trip_on_its_way(round_, compounds, vehicle, driver, loader, now) -> int:
    stops = []
    for i, compound in enumerate(compounds):
        gates = Gate.objects.filter(compound=compound).order_by("pk")
        gate = gates.filter(kind=Gate.Kind.GATE).first() or gates.first()
        if gate is None:
            continue
        start = now + dt.timedelta(minutes=40 + 50 * i)
        stops.append(trips.StopSpec(gate, start, start + dt.timedelta(minutes=40), rounds=[round_]))
    if not stops:
        return 0
    trip = trips.trip_create(
        vehicle=vehicle,
        vehicle_pass=vehicle.passes.order_by("-valid_to").first(),
        driver=driver,
        crew=[loader],
        departs_at=now - dt.timedelta(minutes=10),
        stops=stops,
        by=None,
    )
    for member in (driver, loader):
        trips.attestation_record(
            trip=trip,
            member=member,
            health_code="green",
            travel_record="樊城区、襄城区",
            travel_ok=True,
            last_test_at=now - dt.timedelta(hours=20),
            symptoms=False,
            commitment_signed=True,
            signed_name=member.name,
            by=None,
            now=now - dt.timedelta(minutes=30),
        )
    # A sealed compound lets the truck in only with yesterday's approved entry request.
    for spec in stops:
        if spec.place.compound.containment == Containment.SEALED:
            entry = transport.entry_request_file(
                site=spec.place.compound,
                vehicle=vehicle,
                crew=[driver, loader],
                cargo=f"{round_.title}：按户装袋的保供套餐",
                arrive_from=spec.window_from - dt.timedelta(hours=1),
                arrive_to=spec.window_to + dt.timedelta(hours=1),
                by=None,
                now=now - dt.timedelta(days=1),
            )
            transport.entry_request_decide(entry=entry, approve=True, by=None)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    return 1
