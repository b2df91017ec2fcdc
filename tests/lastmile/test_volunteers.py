"""Volunteer register, coverage per building and duty shifts: services and pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area, Gate
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile import volunteers
from baogong.lastmile.models import Shift, Volunteer
from tests.factories import UserFactory, grant, make_area

START = dt.datetime(2026, 4, 10, 8, 0, tzinfo=dt.UTC)


def data(**fields) -> volunteers.VolunteerData:
    return volunteers.VolunteerData(**{"name": "王小明", "phone": "17040000001", **fields})


@pytest.fixture
def staff(tree):
    user = UserFactory()
    grant(user, Role.COMMUNITY_STAFF, area=tree.community_a)
    return user


def test_register_normalises_and_refuses_bad_input(tree, staff):
    volunteer = volunteers.volunteer_save(
        compound=tree.compound_a,
        data=data(phone="170 4000 0001", building=tree.building_a),
        by=staff,
    )
    assert volunteer.phone == "17040000001" and volunteer.history.first().history_user == staff
    cases = {
        "name": data(name="  "),
        "phone": data(phone="12ab"),
        "building": data(phone="17040000002", building=tree.building_b),
    }
    for field, bad in cases.items():
        with pytest.raises(InvalidInput) as refusal:
            volunteers.volunteer_save(compound=tree.compound_a, data=bad, by=staff)
        assert refusal.value.params["field"] == field
    with pytest.raises(InvalidInput, match="17040000001"):
        volunteers.volunteer_save(compound=tree.compound_a, data=data(), by=staff)
    assert Volunteer.objects.count() == 1


def test_only_a_volunteer_account_of_the_compound_can_be_linked(tree, staff):
    mine, elsewhere = UserFactory(), UserFactory()
    grant(mine, Role.VOLUNTEER, area=tree.building_a)
    grant(elsewhere, Role.VOLUNTEER, area=tree.building_b)
    with pytest.raises(InvalidInput):
        volunteers.volunteer_save(compound=tree.compound_a, data=data(user=elsewhere), by=staff)
    linked = volunteers.volunteer_save(compound=tree.compound_a, data=data(user=mine), by=staff)
    assert linked.user == mine


def test_coverage_lists_buildings_below_target_first(tree, settings):
    settings.LASTMILE_VOLUNTEERS_PER_BUILDING = 2
    full = make_area(Area.Kind.BUILDING, tree.compound_a, "1号楼")
    empty = make_area(Area.Kind.BUILDING, tree.compound_a, "10号楼")
    for n, (building, fields) in enumerate(
        [
            (full, {}),
            (full, {}),
            (tree.building_a, {}),
            (tree.building_a, {"health": Volunteer.Health.ISOLATING}),
            (tree.building_a, {"active": False}),
            (tree.building_a, {"team": Volunteer.Team.PATROL}),
        ]
    ):
        Volunteer.objects.create(
            name=f"志愿{n}",
            phone=f"170400001{n:02d}",
            compound=tree.compound_a,
            building=building,
            **fields,
        )
    rows = volunteers.coverage(tree.community_a)
    assert [(r.building.name, r.supply, r.below) for r in rows] == [
        ("3号楼", 1, True),
        ("10号楼", 0, True),
        ("1号楼", 2, False),
    ]
    assert empty.pk == rows[1].building.pk


def test_shifts_may_not_overlap_for_one_volunteer(tree):
    gate = Gate.objects.create(compound=tree.compound_a, name="南门")
    station = Gate.objects.create(
        compound=tree.compound_a, name="中转站", kind=Gate.Kind.TRANSFER_STATION
    )
    volunteer = Volunteer.objects.create(
        name="王值守", phone="17040000009", compound=tree.compound_a
    )
    volunteers.shift_create(
        volunteer=volunteer,
        place=gate,
        starts_at=START,
        ends_at=START + dt.timedelta(hours=4),
        by=None,
    )
    with pytest.raises(Conflict, match="南门"):
        volunteers.shift_create(
            volunteer=volunteer,
            place=station,
            starts_at=START + dt.timedelta(hours=3),
            ends_at=START + dt.timedelta(hours=6),
            by=None,
        )
    # Back to back is fine; the end must follow the start.
    volunteers.shift_create(
        volunteer=volunteer,
        place=station,
        starts_at=START + dt.timedelta(hours=4),
        ends_at=START + dt.timedelta(hours=8),
        by=None,
    )
    with pytest.raises(InvalidInput):
        volunteers.shift_create(
            volunteer=volunteer, place=gate, starts_at=START, ends_at=START, by=None
        )
    assert Shift.objects.count() == 2
    local_day = timezone.localtime(START).date()
    assert volunteers.shifts_on(tree.compound_a, local_day).count() == 2


def test_register_pages_for_staff_and_liaison(client, tree, staff):
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    url = reverse("lastmile:volunteer_create", args=[tree.compound_a.pk])
    response = client.post(
        url,
        {"name": "李四", "phone": "1704000", "team": "supply", "health": "green", "active": "on"},
    )
    assert response.status_code == 200 and "1704000" in response.content.decode()
    response = client.post(
        url,
        {
            "name": "李四",
            "phone": "17040000021",
            "team": "supply",
            "health": "green",
            "active": "on",
            "building": tree.building_a.pk,
        },
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get(name="李四")
    listing = client.get(
        reverse("lastmile:volunteers", args=[tree.compound_a.pk]), {"team": "supply"}
    )
    assert "李四" in listing.content.decode()
    assert (
        "李四"
        not in client.get(
            reverse("lastmile:volunteers", args=[tree.compound_a.pk]), {"team": "patrol"}
        ).content.decode()
    )
    # The liaison of compound_a does not reach compound_b, nor issue passes.
    assert client.get(reverse("lastmile:volunteers", args=[tree.compound_b.pk])).status_code == 404
    assert client.get(reverse("lastmile:workpass_issue", args=[volunteer.pk])).status_code == 404
    client.force_login(staff)
    assert client.get(reverse("lastmile:volunteer_edit", args=[volunteer.pk])).status_code == 200
    home = client.get(reverse("lastmile:volunteer_home")).content.decode()
    assert tree.compound_a.name in home and tree.compound_b.name not in home


def test_volunteers_and_residents_do_not_reach_the_register(client, tree):
    for role, scope in ((Role.VOLUNTEER, tree.building_a), (Role.RESIDENT, tree.household_a)):
        user = UserFactory()
        grant(user, role, **({"household": scope} if role == Role.RESIDENT else {"area": scope}))
        client.force_login(user)
        assert (
            client.get(reverse("lastmile:volunteers", args=[tree.compound_a.pk])).status_code == 404
        )
        assert client.get(reverse("lastmile:volunteer_home")).status_code == 403


def test_shift_page_adds_and_refuses_overlap(client, tree, staff):
    gate = Gate.objects.create(compound=tree.compound_a, name="南门")
    volunteer = Volunteer.objects.create(
        name="王值守", phone="17040000009", compound=tree.compound_a
    )
    client.force_login(staff)
    url = reverse("lastmile:shifts", args=[tree.compound_a.pk])
    form = {
        "volunteer": volunteer.pk,
        "place": gate.pk,
        "starts_at": "2026-04-10T08:00",
        "ends_at": "2026-04-10T12:00",
    }
    assert client.post(url, form).status_code == 302
    again = client.post(url, {**form, "starts_at": "2026-04-10T09:00"})
    assert again.status_code == 200 and "南门" in again.content.decode()
    assert Shift.objects.count() == 1
    page = client.get(url, {"day": "2026-04-10"}).content.decode()
    assert "08:00–12:00" in page
    client.post(reverse("lastmile:shift_delete", args=[Shift.objects.get().pk]))
    assert not Shift.objects.exists()
