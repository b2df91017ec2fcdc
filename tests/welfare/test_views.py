"""Special-care pages: who reads details (and is logged), who gets counts, who gets nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from baogong.accounts.models import Role
from baogong.supply.models import Supplier
from baogong.welfare import services
from baogong.welfare.models import AccessLog, CheckIn, Need, NeedCategory, SpecialCare, Task

pytestmark = pytest.mark.django_db

Outcome, Wellbeing = CheckIn.Outcome, CheckIn.Wellbeing


@pytest.fixture
def need(care, volunteer):
    return services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.VEGETABLES, "白菜", 2)],
    ).needs[0]


def detail_urls(care, need, tree) -> list[str]:
    community = tree.community_a.pk
    return [
        reverse("welfare:care_detail", args=[care.pk]),
        reverse("welfare:call", args=[care.pk]),
        reverse("welfare:need_order", args=[need.pk]),
        reverse("welfare:people", args=[community]),
        reverse("welfare:area_calls", args=[community]),
        reverse("welfare:needs", args=[community]),
        reverse("welfare:access_log", args=[community]),
        reverse("welfare:export", args=[community]) + "?list=people&personal=on",
        reverse("welfare:export", args=[community]) + "?list=needs&personal=on",
        reverse("welfare:care_edit", args=[care.resident_id]),
    ]


@pytest.fixture
def outsiders(tree, user_with_role, other_building_volunteer):
    supplier = Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)
    return {
        "volunteer of another building": other_building_volunteer,
        "volunteer of the same building, not assigned": user_with_role(
            Role.VOLUNTEER, tree.building_a
        ),
        "liaison of the compound": user_with_role(Role.LIAISON, tree.compound_a),
        "supplier": user_with_role(Role.SUPPLIER, supplier),
        "resident": user_with_role(Role.RESIDENT, tree.household_a),
        "other community's staff": user_with_role(Role.COMMUNITY_STAFF, tree.community_b),
        "street staff": user_with_role(Role.STREET_STAFF, tree.street_a),
        "district admin": user_with_role(Role.DISTRICT_ADMIN, tree.district),
    }


def test_nobody_else_reads_a_detail(client, tree, care, need, outsiders):
    for who, user in outsiders.items():
        client.force_login(user)
        for url in detail_urls(care, need, tree):
            response = client.get(url)
            assert response.status_code in (403, 404), f"{who}: {url} {response.status_code}"
        home = client.get(reverse("welfare:home"))
        assert care.resident.name not in home.content.decode(), who
        assert "降压药" not in home.content.decode()
    assert not AccessLog.objects.exists()


def test_street_and_district_see_counts_without_names(client, tree, care, need, outsiders):
    for who in ("street staff", "district admin"):
        client.force_login(outsiders[who])
        for pk in (tree.street_a.pk, tree.community_a.pk):
            page = client.get(reverse("welfare:dashboard", args=[pk]))
            assert page.status_code == 200, who
            text = page.content.decode()
            assert care.resident.name not in text and "降压药" not in text
            assert reverse("welfare:people", args=[pk]) not in text  # no drill-down to names
        export = client.get(reverse("welfare:export", args=[tree.street_a.pk]) + "?list=people")
        assert export.status_code == 200
        cells = [
            c
            for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
            for c in row
            if c
        ]
        assert (
            care.resident.name not in cells
            and "elderly living alone、chronic illness needing medicine" in cells
        )
    assert not AccessLog.objects.exists()
    client.force_login(outsiders["other community's staff"])
    assert client.get(reverse("welfare:dashboard", args=[tree.community_a.pk])).status_code == 404


def test_every_read_by_an_allowed_role_is_logged(client, tree, care, need, staff, volunteer):
    # Overdue by two days, so the call lists show the record too.
    SpecialCare.objects.filter(pk=care.pk).update(
        due_on=timezone.localdate() - dt.timedelta(days=2)
    )
    client.force_login(staff)
    urls = detail_urls(care, need, tree)
    for url in urls:
        assert client.get(url).status_code == 200, url
    # access_log itself is not a read of a record; everything else logs one row each.
    views = list(AccessLog.objects.filter(user=staff).values_list("view", flat=True))
    assert sorted(views) == sorted(
        [
            "detail",
            "call",
            "need_order",
            "people_list",
            "call_list",
            "needs_list",
            "export_people",
            "export_needs",
            "edit",
        ]
    )
    client.force_login(volunteer)
    for url in urls[:3]:
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("welfare:home")).status_code == 200
    logged = set(AccessLog.objects.filter(user=volunteer).values_list("view", "care_id"))
    assert logged == {(v, care.pk) for v in ("detail", "call", "need_order", "my_calls")}
    page = client.get(reverse("welfare:access_log", args=[tree.community_a.pk]))
    assert page.status_code == 403 or page.status_code == 404  # volunteers do not see the log
    client.force_login(staff)
    log = client.get(reverse("welfare:access_log", args=[tree.community_a.pk])).content.decode()
    assert volunteer.name in log and "my_calls" in log


def test_recording_a_call_from_the_page(client, care, volunteer):
    client.force_login(volunteer)
    response = client.post(
        reverse("welfare:call", args=[care.pk]),
        {
            "outcome": "reached",
            "wellbeing": "needs_help",
            "note": "",
            "need_0_category": "eggs",
            "need_0_item": "鸡蛋",
            "need_0_quantity": "1",
        },
    )
    assert response.status_code == 302
    need = Need.objects.get()
    assert need.category == "eggs" and need.checkin.called_by == volunteer


def test_call_form_errors_are_shown_and_nothing_is_written(client, care, volunteer):
    client.force_login(volunteer)
    response = client.post(
        reverse("welfare:call", args=[care.pk]), {"outcome": "reached", "need_0_quantity": "2"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Say how the person is." in text and "Choose what is needed." in text
    assert not CheckIn.objects.exists()


def test_need_actions_from_the_record_page(client, care, need, volunteer):
    client.force_login(volunteer)
    url = reverse("welfare:need_act", args=[need.pk])
    assert client.post(url, {"action": "door_delivery"}).status_code == 302
    task = Task.objects.get()
    assert task.kind == "door_delivery" and task.assignee == volunteer
    client.post(reverse("welfare:task_done", args=[task.pk]), {"next": "//evil.example"})
    need.refresh_from_db()
    assert need.state == Need.State.MET


def test_need_order_page_prefills_and_places(client, care, need, volunteer, open_round):
    client.force_login(volunteer)
    url = reverse("welfare:need_order", args=[need.pk])
    page = client.get(url)
    veg = open_round.offers.get(code="B")
    form = page.context["form"]
    assert form[f"offer_{veg.pk}"].value() == 1  # the vegetables package meets the need
    rice = open_round.offers.get(code="A")
    assert not form[f"offer_{rice.pk}"].value()
    response = client.post(
        url, {"round": open_round.pk, "household": care.household_id, f"offer_{veg.pk}": "1"}
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.order is not None and need.order.channel == "proxy"


def test_care_form_creates_a_record(client, tree, staff, volunteer):
    resident = tree.household_a.residents.get()
    client.force_login(staff)
    response = client.post(
        reverse("welfare:care_edit", args=[resident.pk]),
        {
            "categories": ["pregnant"],
            "mobility": "independent",
            "hearing": "normal",
            "cadence_days": "3",
            "volunteers": [volunteer.pk],
            "emergency_phone": "17000008888",
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.special_group and resident.special_care.categories == ["pregnant"]
    assert list(resident.special_care.volunteers.all()) == [volunteer]
