"""Door delivery pages: the volunteer's own list, actions through the page, the liaison's page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baogong.areas.models import Resident
from baogong.lastmile import doors
from baogong.lastmile.models import Bag, DoorTask, Handover, Volunteer
from tests.factories import UserFactory
from tests.lastmile.test_doors import png


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tasks(lastmile):
    """Every bag of compound_a to the door: 3号楼's four for the 3号楼 volunteer, 10号楼's two
    for the 10号楼 volunteer."""
    lastmile.receive_all()
    Bag.objects.filter(delivery=lastmile.delivery).update(door_delivery=True)
    compound = lastmile.delivery.compound
    Volunteer.objects.create(
        name="甲志愿",
        phone="17030000001",
        compound=compound,
        building=lastmile.building_3,
        user=lastmile.volunteer,
    )
    Volunteer.objects.create(
        name="丙志愿",
        phone="17030000002",
        compound=compound,
        building=lastmile.building_10,
        user=lastmile.volunteer_10,
    )
    doors.door_tasks_assign(delivery=lastmile.delivery, by=lastmile.liaison)
    return {i: DoorTask.objects.get(bag=lastmile.bag(i)) for i in range(6)}


def test_volunteer_sees_only_their_tasks_in_walking_order(client, lastmile, tasks):
    Resident.objects.filter(household=lastmile.households[3]).update(special_group=True)
    client.force_login(lastmile.volunteer)
    page = client.get(reverse("lastmile:my_door_tasks")).content.decode()
    positions = [page.index(f'id="task-{tasks[i].pk}"') for i in (1, 2, 3, 0)]
    assert positions == sorted(positions)
    assert f'id="task-{tasks[4].pk}"' not in page and "10号楼" not in page
    # Full numbers with a tel: link for the building's volunteer; never why it is a door delivery.
    phone = lastmile.households[1].phone
    assert f'href="tel:{phone}"' in page
    main = page[page.index("<main") :]
    assert "special" not in main.lower() and "特殊" not in main


def test_deliver_with_code_through_the_page(client, lastmile, tasks):
    client.force_login(lastmile.volunteer)
    task = tasks[1]
    url = reverse("lastmile:door_task_deliver", args=[task.pk])
    response = client.post(url, {"code": "ZZZZZZ"}, follow=True)
    assert "ZZZZZZ" in response.content.decode()
    assert DoorTask.objects.get(pk=task.pk).state == DoorTask.State.OPEN
    response = client.post(url, {"code": task.bag.pickup_code.lower()})
    assert response.status_code == 302 and response.url == reverse("lastmile:my_door_tasks")
    assert Handover.objects.get(bag=task.bag).method == Handover.Method.DOOR_CODE
    assert f'id="task-{task.pk}"' not in client.get(response.url).content.decode()


def test_left_at_door_requires_a_photo_through_the_page(client, lastmile, tasks, media):
    client.force_login(lastmile.volunteer)
    url = reverse("lastmile:door_task_deliver", args=[tasks[2].pk])
    client.post(url, {"code": ""})
    assert not Handover.objects.exists()
    bad = client.post(url, {"photo": SimpleUploadedFile("x.png", b"not an image")})
    assert bad.status_code == 302 and not Handover.objects.exists()
    client.post(url, {"photo": png()})
    assert Handover.objects.get(bag=tasks[2].bag).method == Handover.Method.LEFT_AT_DOOR


def test_problem_through_the_page(client, lastmile, tasks):
    client.force_login(lastmile.volunteer)
    url = reverse("lastmile:door_task_problem", args=[tasks[0].pk])
    client.post(url, {"problem": ""})
    assert DoorTask.objects.get(pk=tasks[0].pk).state == DoorTask.State.OPEN
    client.post(url, {"problem": "地址不对"})
    assert DoorTask.objects.get(pk=tasks[0].pk).state == DoorTask.State.PROBLEM


@pytest.mark.parametrize("name", ["door_task_deliver", "door_task_problem", "door_task_reassign"])
def test_other_volunteers_and_strangers_get_404(client, lastmile, tasks, name):
    url = reverse(f"lastmile:{name}", args=[tasks[0].pk])
    for user in (lastmile.volunteer_10, lastmile.other_liaison, lastmile.resident, UserFactory()):
        client.force_login(user)
        assert client.post(url, {"code": tasks[0].bag.pickup_code}).status_code == 404
    assert DoorTask.objects.get(pk=tasks[0].pk).state == DoorTask.State.OPEN


def test_a_volunteer_cannot_reassign_their_own_task(client, lastmile, tasks):
    client.force_login(lastmile.volunteer)
    other = Volunteer.objects.get(user=lastmile.volunteer_10)
    url = reverse("lastmile:door_task_reassign", args=[tasks[0].pk])
    assert client.post(url, {"volunteer": other.pk}).status_code == 403


def test_liaison_page_assigns_and_reassigns(client, lastmile, tasks):
    client.force_login(lastmile.liaison)
    page = client.get(reverse("lastmile:door_tasks", args=[lastmile.delivery.pk]))
    assert page.status_code == 200 and "甲志愿" in page.content.decode()
    other = Volunteer.objects.get(user=lastmile.volunteer_10)
    client.post(reverse("lastmile:door_task_reassign", args=[tasks[0].pk]), {"volunteer": other.pk})
    assert DoorTask.objects.get(pk=tasks[0].pk).volunteer == other
    response = client.post(
        reverse("lastmile:door_tasks_assign", args=[lastmile.delivery.pk]), follow=True
    )
    assert DoorTask.objects.count() == 6
    assert "No door task was waiting for a volunteer." in response.content.decode()


def test_other_compounds_liaison_gets_404_on_the_delivery_page(client, lastmile, tasks):
    client.force_login(lastmile.other_liaison)
    assert (
        client.get(reverse("lastmile:door_tasks", args=[lastmile.delivery.pk])).status_code == 404
    )
    assert (
        client.post(reverse("lastmile:door_tasks_assign", args=[lastmile.delivery.pk])).status_code
        == 404
    )


def test_an_unregistered_volunteer_is_told_so(client, lastmile):
    client.force_login(lastmile.volunteer)
    response = client.get(reverse("lastmile:my_door_tasks"))
    assert response.status_code == 200 and not response.context["registered"]
