from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.fulfilment import trips
from baogong.fulfilment.models import Attestation, CrewMember, EntryRequest, Stop, Trip, Vehicle
from baogong.supply.models import SupplierArea
from tests.factories import UserFactory, grant
from tests.fulfilment.transport_world import declare_all, gate_of, make_fleet, plan_trip, stop_at


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def supplier_user(supplier):
    user = UserFactory()
    grant(user, Role.SUPPLIER, supplier=supplier)
    return user


@pytest.fixture
def fleet(tree, supplier, now):
    SupplierArea.objects.create(supplier=supplier, area=tree.street_a)
    return make_fleet(supplier, tree.street_a, now=now, plate="鄂F12345")


@pytest.fixture
def trip(fleet, tree, now):
    return plan_trip(fleet, [stop_at(tree.compound_a, now=now)], now=now)


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_supplier_pages_render(client, supplier_user, trip, fleet):
    client.force_login(supplier_user)
    for name, args in [
        ("fulfilment:trip_list", []),
        ("fulfilment:trip_create", []),
        ("fulfilment:trip_detail", [trip.pk]),
        ("fulfilment:trip_attestation", [trip.pk, fleet.driver.pk]),
        ("fulfilment:stop_detail", [trip.stops.get().pk]),
        ("fulfilment:vehicle_list", []),
        ("fulfilment:vehicle_create", []),
        ("fulfilment:crew_create", []),
        ("fulfilment:pass_list", []),
        ("fulfilment:pass_detail", [fleet.vehicle_pass.pk]),
        ("fulfilment:entry_list", []),
        ("fulfilment:entry_create", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name
    body = client.get(reverse("fulfilment:vehicle_list")).content.decode()
    assert "420***********123X" in body and "42060119800101123X" not in body


def test_residents_and_volunteers_have_no_transport_pages(client, tree):
    resident = UserFactory()
    grant(resident, Role.RESIDENT, household=tree.household_a)
    client.force_login(resident)
    assert client.get(reverse("fulfilment:trip_list")).status_code == 403
    assert client.get(reverse("fulfilment:vehicle_create")).status_code == 403


def test_vehicle_form_normalises_the_plate_and_names_bad_input(client, supplier_user, supplier):
    client.force_login(supplier_user)
    url = reverse("fulfilment:vehicle_create")
    data = {"owner": f"s{supplier.pk}", "kind": "van", "capacity_bags": 100, "capacity_kg": 800}
    response = client.post(url, {**data, "plate": "ABC"})
    assert response.status_code == 200
    assert "is not a plate" in response.content.decode()
    assert not Vehicle.objects.exists()
    response = client.post(url, {**data, "plate": "鄂f 88888"})
    assert response.status_code == 302
    assert Vehicle.objects.get().plate == "鄂F88888"
    response = client.post(url, {**data, "plate": "鄂F88888"})
    assert "already registered" in response.content.decode()


def test_crew_form_keeps_only_a_masked_id(client, supplier_user, supplier):
    client.force_login(supplier_user)
    response = client.post(
        reverse("fulfilment:crew_create"),
        {
            "owner": f"s{supplier.pk}",
            "name": "王师傅",
            "phone": "170 0000 3001",
            "id_number": "420601199001011234",
        },
    )
    assert response.status_code == 302
    member = CrewMember.objects.get()
    assert member.id_number_masked == "420***********1234"
    assert member.history.filter(id_number_masked__contains="19900101").count() == 0


def test_dispatch_button_lists_every_failed_rule(client, supplier_user, trip):
    client.force_login(supplier_user)
    response = client.post(
        reverse("fulfilment:trip_action", args=[trip.pk, "dispatch"]), follow=True
    )
    messages = texts(response)
    assert "司机甲: no health declaration for this trip" in messages
    assert "装卸乙: no health declaration for this trip" in messages
    trip.refresh_from_db()
    assert trip.state == Trip.State.PLANNED


def test_attestation_form_records_the_declaration(client, supplier_user, trip, fleet, now):
    client.force_login(supplier_user)
    url = reverse("fulfilment:trip_attestation", args=[trip.pk, fleet.driver.pk])
    response = client.post(
        url,
        {
            "health_code": "green",
            "travel_record": "樊城区",
            "travel_ok": "on",
            "last_test_at": timezone.localtime(now - dt.timedelta(hours=10)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "commitment_signed": "on",
            "signed_name": "司机甲",
        },
    )
    assert response.status_code == 302
    attestation = Attestation.objects.get(trip=trip, crew_member=fleet.driver)
    assert attestation.signed_at is not None and attestation.travel_ok


def test_site_staff_see_the_trip_but_not_the_declarations(client, tree, trip, fleet):
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    assert client.get(reverse("fulfilment:trip_detail", args=[trip.pk])).status_code == 200
    url = reverse("fulfilment:trip_attestation", args=[trip.pk, fleet.driver.pk])
    assert client.get(url).status_code == 403
    other = UserFactory()
    grant(other, Role.LIAISON, area=tree.compound_b)
    client.force_login(other)
    assert client.get(reverse("fulfilment:trip_detail", args=[trip.pk])).status_code == 404


def test_stop_page_counts_down_and_refuses_early_unloading(client, tree, trip, now):
    declare_all(trip, now=now)
    trips.trip_dispatch(trip=trip, by=None, now=now)
    stop = trip.stops.get()
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    client.post(reverse("fulfilment:stop_action", args=[stop.pk, "arrive"]))
    response = client.post(
        reverse("fulfilment:stop_disinfection", args=[stop.pk]),
        {
            "agent": "84消毒液",
            "dilution": "1:100",
            "done_by": "门岗志愿者",
            "done_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "rest_minutes": 30,
        },
        follow=True,
    )
    body = response.content.decode()
    assert 'aria-live="polite"' in body and "minutes left" in body
    response = client.post(reverse("fulfilment:stop_action", args=[stop.pk, "unload"]), follow=True)
    assert any("more minutes of rest" in m for m in texts(response))
    stop.refresh_from_db()
    assert stop.state == Stop.State.ARRIVED


def test_entry_request_must_be_filed_the_day_before(client, supplier_user, fleet, tree, now):
    client.force_login(supplier_user)
    today = timezone.localtime(now).replace(hour=23, minute=0)
    data = {
        "site": tree.compound_a.pk,
        "vehicle": fleet.vehicle.pk,
        "crew": [fleet.driver.pk],
        "cargo": "保供套餐 40 袋",
        "arrive_from": today.strftime("%Y-%m-%dT%H:%M"),
        "arrive_to": (today + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(reverse("fulfilment:entry_create"), data)
    assert "by the day before arrival" in response.content.decode()
    assert not EntryRequest.objects.exists()
    tomorrow = today + dt.timedelta(days=1)
    data["arrive_from"] = tomorrow.strftime("%Y-%m-%dT%H:%M")
    data["arrive_to"] = (tomorrow + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(reverse("fulfilment:entry_create"), data).status_code == 302
    assert EntryRequest.objects.get().state == EntryRequest.State.PENDING


def test_the_sites_liaison_decides_entry(client, tree, fleet, now):
    from baogong.fulfilment import transport

    entry = transport.entry_request_file(
        site=tree.compound_a,
        vehicle=fleet.vehicle,
        crew=[fleet.driver],
        cargo="保供套餐",
        arrive_from=now + dt.timedelta(days=1),
        arrive_to=now + dt.timedelta(days=1, hours=1),
        by=None,
        now=now,
    )
    url = reverse("fulfilment:entry_detail", args=[entry.pk])
    street = UserFactory()
    grant(street, Role.STREET_STAFF, area=tree.street_a)
    client.force_login(street)
    assert client.get(url).status_code == 200
    assert client.post(url, {"decision": "approve"}).status_code == 403
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    response = client.post(url, {"decision": "refuse", "reason": ""})
    assert "say why entry is refused" in response.content.decode()
    assert client.post(url, {"decision": "refuse", "reason": "小区今日全员核酸"}).status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryRequest.State.REFUSED and entry.decided_by == liaison


def test_planning_a_trip_through_the_page(client, supplier_user, fleet, tree, now):
    client.force_login(supplier_user)
    gate = gate_of(tree.compound_a)
    fmt = "%Y-%m-%dT%H:%M"
    local = timezone.localtime(now)
    response = client.post(
        reverse("fulfilment:trip_create"),
        {
            "vehicle": fleet.vehicle.pk,
            "vehicle_pass": fleet.vehicle_pass.pk,
            "driver": fleet.driver.pk,
            "crew": [fleet.loader.pk],
            "departs_at": (local + dt.timedelta(hours=1)).strftime(fmt),
            "place": gate.pk,
            "window_from": (local + dt.timedelta(hours=2)).strftime(fmt),
            "window_to": (local + dt.timedelta(hours=3)).strftime(fmt),
        },
    )
    assert response.status_code == 302
    trip = Trip.objects.get()
    assert list(trip.crew.all()) == [fleet.loader] and trip.stops.get().place == gate


def test_a_double_tap_on_plan_the_trip_plans_one_trip(client, supplier_user, fleet, tree, now):
    client.force_login(supplier_user)
    page = client.get(reverse("fulfilment:trip_create"))
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', page.content.decode())[1]
    fmt = "%Y-%m-%dT%H:%M"
    local = timezone.localtime(now)
    form = {
        "request_key": key,
        "vehicle": fleet.vehicle.pk,
        "vehicle_pass": fleet.vehicle_pass.pk,
        "driver": fleet.driver.pk,
        "departs_at": (local + dt.timedelta(hours=1)).strftime(fmt),
        "place": gate_of(tree.compound_a).pk,
        "window_from": (local + dt.timedelta(hours=2)).strftime(fmt),
        "window_to": (local + dt.timedelta(hours=3)).strftime(fmt),
    }
    first = client.post(reverse("fulfilment:trip_create"), form)
    again = client.post(reverse("fulfilment:trip_create"), form)
    trip = Trip.objects.get()
    assert first.status_code == again.status_code == 302
    detail = reverse("fulfilment:trip_detail", args=[trip.pk])
    assert first["Location"] == again["Location"] == detail
    assert trip.stops.count() == 1
    # Another form (a new key) plans another trip.
    client.post(reverse("fulfilment:trip_create"), {**form, "request_key": "another-form"})
    assert Trip.objects.count() == 2


def test_stop_page_links_each_delivery_to_its_gate_receipt(
    client, tree, fleet, filled_round, supplier_user, now
):
    from baogong.fulfilment import services
    from tests.fulfilment.conftest import close

    round_ = close(filled_round.round)
    services.round_confirm(round_=round_, available={}, by=None)
    round_.refresh_from_db()
    trip = plan_trip(fleet, [stop_at(tree.compound_a, now=now, rounds=[round_])], now=now)
    stop = trip.stops.get()
    [delivery] = stop.deliveries.all()
    client.force_login(supplier_user)
    body = client.get(reverse("fulfilment:stop_detail", args=[stop.pk])).content.decode()
    assert reverse("lastmile:receipt", kwargs={"pk": delivery.pk}) in body
    assert "4 bags" in body


def test_site_staff_keep_no_fleet(client, tree):
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    assert client.get(reverse("fulfilment:trip_list")).status_code == 200
    assert client.get(reverse("fulfilment:vehicle_create")).status_code == 403
    assert client.get(reverse("fulfilment:crew_create")).status_code == 403
    assert client.get(reverse("fulfilment:trip_create")).status_code == 403
