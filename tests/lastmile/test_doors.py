"""Door delivery services: assignment (balance, idempotency), walking order, code, photo,
problems."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile import doors
from baogong.lastmile.bags import NewBag, bags_add
from baogong.lastmile.models import Bag, DoorTask, Handover, Volunteer
from baogong.notify.models import Message
from baogong.requisitions.models import DistributionEntry
from tests.factories import HouseholdFactory


def png(name: str = "door.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def volunteer(lastmile, building: Area, name: str, user=None, **fields) -> Volunteer:
    return Volunteer.objects.create(
        name=name,
        phone=f"1703{Volunteer.objects.count():07d}",
        compound=lastmile.delivery.compound,
        building=building,
        user=user,
        **fields,
    )


@pytest.fixture
def crew(lastmile):
    """Two supply volunteers in 3号楼 and one in 10号楼, plus people who must never get tasks."""
    lastmile.receive_all()
    Bag.objects.filter(delivery=lastmile.delivery).update(door_delivery=True)
    b3, b10 = lastmile.building_3, lastmile.building_10
    return {
        "a": volunteer(lastmile, b3, "甲志愿", user=lastmile.volunteer),
        "b": volunteer(lastmile, b3, "乙志愿"),
        "c": volunteer(lastmile, b10, "丙志愿", user=lastmile.volunteer_10),
        "isolating": volunteer(lastmile, b3, "丁志愿", health=Volunteer.Health.ISOLATING),
        "inactive": volunteer(lastmile, b3, "戊志愿", active=False),
        "patrol": volunteer(lastmile, b3, "己志愿", team=Volunteer.Team.PATROL),
    }


def task_of(lastmile, index: int) -> DoorTask:
    return DoorTask.objects.get(bag=lastmile.bag(index))


def test_assign_balances_building_volunteers_and_is_idempotent(lastmile, crew):
    assert doors.door_tasks_assign(delivery=lastmile.delivery, by=lastmile.liaison) == 6
    counts = {name: DoorTask.objects.filter(volunteer=v).count() for name, v in crew.items()}
    assert counts == {"a": 2, "b": 2, "c": 2, "isolating": 0, "inactive": 0, "patrol": 0}
    assigned = dict(DoorTask.objects.values_list("bag_id", "volunteer_id"))

    assert doors.door_tasks_assign(delivery=lastmile.delivery, by=lastmile.liaison) == 0
    assert dict(DoorTask.objects.values_list("bag_id", "volunteer_id")) == assigned
    # One message per volunteer with an account (乙 has none), not repeated by the second run.
    messages = Message.objects.filter(kind="door_tasks_assigned")
    assert sorted(messages.values_list("recipient_id", flat=True)) == sorted(
        [lastmile.volunteer.pk, lastmile.volunteer_10.pk]
    )


def test_assign_only_door_delivery_bags_and_keeps_unstaffed_buildings_for_the_liaison(
    lastmile,
):
    lastmile.receive_all()
    assert doors.door_tasks_assign(delivery=lastmile.delivery, by=None) == 0
    task = DoorTask.objects.get()  # only the sealed 1-301 is a door delivery
    assert task.bag == lastmile.bag(3) and task.volunteer is None

    helper = volunteer(lastmile, lastmile.building_3, "甲志愿")
    assert doors.door_tasks_assign(delivery=lastmile.delivery, by=None) == 1
    task.refresh_from_db()
    assert task.volunteer == helper


def test_assign_balances_against_tasks_already_open(lastmile, crew):
    Bag.objects.filter(delivery=lastmile.delivery).update(door_delivery=False)
    Bag.objects.filter(pk=lastmile.bag(0).pk).update(door_delivery=True)
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    first = task_of(lastmile, 0).volunteer
    Bag.objects.filter(pk=lastmile.bag(1).pk).update(door_delivery=True)
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    assert task_of(lastmile, 1).volunteer not in (None, first)


def test_walking_order_is_building_entrance_floor_room(lastmile, crew):
    b3 = lastmile.building_3
    for room in ("1203", "502", "B1103"):
        HouseholdFactory(building=b3, unit="1", room=room)
    new = [
        NewBag(household_id=h.pk, building_id=b3.pk, pickup_code=f"W{h.pk:05d}")
        for h in b3.households.filter(room__in=["1203", "502", "B1103"])
    ]
    bags_add(lastmile.delivery, new)
    Bag.objects.filter(delivery=lastmile.delivery).update(
        door_delivery=True, gate_state=Bag.GateState.RECEIVED
    )
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    DoorTask.objects.filter(bag__building=b3).update(volunteer=crew["a"])
    tasks = doors.my_open_tasks(lastmile.volunteer)
    addresses = [(t.bag.building.name, t.bag.household.unit, t.bag.household.room) for t in tasks]
    assert addresses == [
        ("3号楼", "1", "101"),
        ("3号楼", "1", "201"),
        ("3号楼", "1", "301"),
        ("3号楼", "1", "502"),
        ("3号楼", "1", "B1103"),
        ("3号楼", "1", "1203"),
        ("3号楼", "2", "502"),
    ]


def test_walking_order_puts_10_after_3(lastmile, crew):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    DoorTask.objects.update(volunteer=crew["a"])  # string order would put 10号楼 first
    names = [t.bag.building.name for t in doors.my_open_tasks(lastmile.volunteer)]
    assert names == ["3号楼"] * 4 + ["10号楼"] * 2


def test_deliver_with_the_households_code(lastmile, crew):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    task = task_of(lastmile, 3)
    code = task.bag.pickup_code
    spaced = f" {code[:3].lower()} {code[3:].lower()} "
    handover = doors.door_task_deliver(task=task, by=lastmile.volunteer, code=spaced)
    assert handover.method == Handover.Method.DOOR_CODE
    task.refresh_from_db()
    assert task.state == DoorTask.State.DELIVERED
    assert Bag.objects.get(pk=task.bag_id).state == Bag.State.DELIVERED
    assert DistributionEntry.objects.filter(bag=task.bag).count() == 1
    with pytest.raises(Conflict):
        doors.door_task_deliver(task=task, by=lastmile.volunteer, code=code)


def test_a_wrong_code_is_refused_and_nothing_is_written(lastmile, crew):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    task = task_of(lastmile, 3)
    other = lastmile.bag(0).pickup_code
    with pytest.raises(InvalidInput, match=other):
        doors.door_task_deliver(task=task, by=lastmile.volunteer, code=other)
    task.refresh_from_db()
    assert task.state == DoorTask.State.OPEN
    assert not Handover.objects.exists() and not DistributionEntry.objects.exists()


def test_left_at_door_needs_a_photo(lastmile, crew, media):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    task = task_of(lastmile, 3)
    with pytest.raises(InvalidInput):
        doors.door_task_deliver(task=task, by=lastmile.volunteer)
    assert not Handover.objects.exists()
    handover = doors.door_task_deliver(task=task, by=lastmile.volunteer, photo=png())
    assert handover.method == Handover.Method.LEFT_AT_DOOR
    assert handover.photo.name.startswith("lastmile/handovers/")
    assert Bag.objects.get(pk=task.bag_id).state == Bag.State.DELIVERED


def test_a_bag_short_at_the_gate_cannot_be_delivered(lastmile, crew):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    task = task_of(lastmile, 3)
    Bag.objects.filter(pk=task.bag_id).update(gate_state=Bag.GateState.EXPECTED)
    with pytest.raises(InvalidInput):
        doors.door_task_deliver(task=task, by=lastmile.volunteer, code=task.bag.pickup_code)
    assert DoorTask.objects.get(pk=task.pk).state == DoorTask.State.OPEN


def test_problem_tells_the_liaison_and_reassign_reopens(lastmile, crew):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    task = task_of(lastmile, 3)
    with pytest.raises(InvalidInput):
        doors.door_task_problem(task=task, by=lastmile.volunteer, problem="  ")
    doors.door_task_problem(task=task, by=lastmile.volunteer, problem="敲门无人应答")
    task.refresh_from_db()
    assert task.state == DoorTask.State.PROBLEM and task.problem == "敲门无人应答"
    message = Message.objects.get(kind="door_problem")
    assert message.recipient == lastmile.liaison and "敲门无人应答" in message.body
    assert task not in doors.my_open_tasks(lastmile.volunteer)

    other = crew["b"] if task.volunteer == crew["a"] else crew["a"]
    doors.door_task_reassign(task=task, volunteer=other, by=lastmile.liaison)
    task.refresh_from_db()
    assert task.state == DoorTask.State.OPEN and task.volunteer == other
    with pytest.raises(InvalidInput):
        doors.door_task_reassign(task=task, volunteer=crew["inactive"], by=lastmile.liaison)


def test_reassign_refuses_a_volunteer_of_another_compound(lastmile, crew, tree):
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    stranger = Volunteer.objects.create(
        name="外人", phone="17039999999", compound=tree.compound_b, building=tree.building_b
    )
    with pytest.raises(InvalidInput):
        doors.door_task_reassign(task=task_of(lastmile, 3), volunteer=stranger, by=None)


def test_follow_up_door_bags_become_tasks(lastmile, crew):
    Bag.objects.filter(delivery=lastmile.delivery).update(door_delivery=False)
    Bag.objects.filter(pk=lastmile.bag(1).pk).update(
        state=Bag.State.UNCOLLECTED, follow_up=Bag.FollowUp.DOOR
    )
    assert doors.door_tasks_assign(delivery=lastmile.delivery, by=None) == 1
    assert DoorTask.objects.get().bag == lastmile.bag(1)


def test_a_tie_goes_to_the_volunteer_who_can_see_the_list(lastmile, crew):
    Bag.objects.filter(delivery=lastmile.delivery).exclude(pk=lastmile.bag(3).pk).update(
        door_delivery=False
    )
    doors.door_tasks_assign(delivery=lastmile.delivery, by=None)
    # 乙志愿 sorts before 甲志愿, but has no account to open the list with.
    assert task_of(lastmile, 3).volunteer == crew["a"]
