"""Rows of the permission matrix for door delivery.

Each side's round gets its delivery; the side's household's bag gets a door task
carried by a registered volunteer linked to the side's building volunteer account.
A volunteer reaches only their own tasks (tests/lastmile/test_doors_views.py), so in
the matrix the tasks are reached by those who run the compound's delivery.
"""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.lastmile.bags import round_deliveries_sync
from baogong.lastmile.models import Bag, DoorTask, Volunteer

RUN = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}


def build(side) -> dict:
    (delivery,) = round_deliveries_sync(side.round)
    bag = Bag.objects.get(delivery=delivery, household=side.household)
    volunteer = Volunteer.objects.create(
        name="李送货",
        phone=f"1702000{side.compound.pk % 10000:04d}",
        compound=side.compound,
        building=side.building,
        user=side.volunteer,
    )
    task = DoorTask.objects.create(bag=bag, volunteer=volunteer)
    return {"door_delivery": delivery, "door_task": task}


def _x(name):
    return lambda s: {"pk": s.extra[name].pk}


# POSTs without a code, photo, problem or volunteer are refused with a message.
TARGETS = {
    "lastmile:door_tasks": ("get", _x("door_delivery"), RUN),
    "lastmile:door_tasks_assign": ("post", _x("door_delivery"), RUN),
    "lastmile:door_task_deliver": ("post", _x("door_task"), RUN),
    "lastmile:door_task_problem": ("post", _x("door_task"), RUN),
    "lastmile:door_task_reassign": ("post", _x("door_task"), RUN),
}
NOT_OBJECT_SCOPED = {
    # The signed-in volunteer's own tasks only (tests/lastmile/test_doors_views.py).
    "lastmile:my_door_tasks",
}
