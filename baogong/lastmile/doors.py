"""Door delivery: bags for sealed and special-needs households, carried up by building volunteers.

A delivery's door-delivery bags (`Bag.door_delivery`, or a follow-up bag marked "deliver
to the door") become door tasks, spread over the building's active, well supply-team
volunteers so nobody carries twice as many as the next. A volunteer's phone page lists
their open tasks in walking order (building, entrance, floor, room); delivering checks
the household's pickup code, or takes a photo of the bag left at the door, and goes
through `bag_hand_over` like any other handover. Problems go to the liaison.
Nothing here says why a household gets door delivery: special-needs details stay in welfare.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role, RoleGrant
from baogong.areas.addresses import floor_of
from baogong.areas.queries import natural_key
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile.handover import bag_hand_over, normalize_code
from baogong.lastmile.models import Bag, Delivery, DoorTask, Handover, Volunteer
from baogong.lastmile.volunteers import save_audited, supply_volunteers
from baogong.notify.services import send

if TYPE_CHECKING:
    from django.core.files import File

    from baogong.accounts.models import User

# Bags still to be carried: waiting at the pick-up point, or on the follow-up list.
CARRYABLE = (Bag.State.WAITING, Bag.State.UNCOLLECTED)
# Bags short at the gate never reach a door.
SHORT_AT_GATE = (Bag.GateState.MISSING, Bag.GateState.DAMAGED, Bag.GateState.WRONG)


def _door_bags(delivery: Delivery) -> QuerySet[Bag]:
    return (
        delivery.bags.filter(state__in=CARRYABLE)
        .filter(Q(door_delivery=True) | Q(follow_up=Bag.FollowUp.DOOR))
        .exclude(gate_state__in=SHORT_AT_GATE)
    )


def walking_key(bag: Bag) -> tuple:
    """Building in natural order, then entrance, floor and room: one trip up each stairwell."""
    household = bag.household
    floor = household.floor if household.floor is not None else floor_of(household.room)
    return (
        natural_key(bag.building.name),
        natural_key(household.unit or ""),
        floor if floor is not None else 0,
        natural_key(household.room),
        bag.pk,
    )


def _open_counts(volunteer_ids: list[int]) -> Counter[int]:
    return Counter(
        DoorTask.objects.filter(
            volunteer_id__in=volunteer_ids, state=DoorTask.State.OPEN
        ).values_list("volunteer_id", flat=True)
    )


@transaction.atomic
def door_tasks_assign(*, delivery: Delivery, by: User | None) -> int:
    """Make a door task for every door-delivery bag and give each unassigned task to one of
    its building's volunteers, the one with the fewest open tasks first (round-robin).

    Idempotent: a bag keeps its task and its volunteer; a second run assigns only what is
    new or had nobody. Tasks of a building without volunteers stay unassigned for the
    liaison. Notifies each volunteer who got tasks. Returns how many tasks were assigned.
    """
    # Lock the delivery so two assign runs (double click) cannot both create a bag's task.
    Delivery.objects.select_for_update().get(pk=delivery.pk)
    bags = list(_door_bags(delivery).select_related("building", "household"))
    have = set(DoorTask.objects.filter(bag__in=bags).values_list("bag_id", flat=True))
    for bag in bags:
        if bag.pk not in have:
            task = DoorTask(bag=bag)
            save_audited(task, by=by, reason="door_tasks_assign")
    tasks = sorted(
        DoorTask.objects.filter(
            bag__in=bags, volunteer__isnull=True, state=DoorTask.State.OPEN
        ).select_related("bag__building", "bag__household"),
        key=lambda t: walking_key(t.bag),
    )
    volunteers: dict[int, list[Volunteer]] = {}
    for volunteer in Volunteer.objects.filter(supply_volunteers(), compound=delivery.compound_id):
        if volunteer.building_id:
            volunteers.setdefault(volunteer.building_id, []).append(volunteer)
    load = _open_counts([v.pk for vs in volunteers.values() for v in vs])
    assigned: Counter[int] = Counter()
    for task in tasks:
        candidates = volunteers.get(task.bag.building_id)
        if not candidates:
            continue
        # Fewest open tasks first; on a tie, someone with an account (they see the list on
        # their phone), then by name so the spread is the same every run.
        chosen = min(candidates, key=lambda v: (load[v.pk], v.user_id is None, v.name, v.pk))
        load[chosen.pk] += 1
        assigned[chosen.pk] += 1
        task.volunteer = chosen
        save_audited(task, by=by, reason="door_tasks_assign")
    by_pk = {v.pk: v for vs in volunteers.values() for v in vs}
    for volunteer_pk, count in assigned.items():
        _tell_volunteer(by_pk[volunteer_pk], delivery, count)
    return sum(assigned.values())


def _tell_volunteer(volunteer: Volunteer, delivery: Delivery, count: int) -> None:
    if volunteer.user_id is None:
        return
    last = (
        DoorTask.objects.filter(volunteer=volunteer, bag__delivery=delivery)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    send(
        "door_tasks_assigned",
        users=[volunteer.user_id],
        context={"count": str(count), "compound": delivery.compound.name},
        # One message per batch of tasks: the newest task's id names the batch.
        dedupe_key=f"door_tasks_assigned:{delivery.pk}:{volunteer.pk}:{last}",
        link=reverse("lastmile:my_door_tasks"),
    )


def _lock_open(task: DoorTask) -> DoorTask:
    # Lock the task: a double tap or two volunteers on one task resolve it once.
    task = (
        DoorTask.objects.select_for_update(of=("self",))
        .select_related("bag", "bag__delivery__compound", "volunteer")
        .get(pk=task.pk)
    )
    if task.state == DoorTask.State.DELIVERED:
        raise Conflict(_("This bag has already been delivered."))
    return task


@transaction.atomic
def door_task_deliver(
    *, task: DoorTask, by: User | None, code: str = "", photo: File | None = None
) -> Handover:
    """Mark the task delivered: with the household's pickup code (checked), or with a photo
    of the bag left at the door. Raises InvalidInput (neither, or a wrong code) or Conflict
    (already delivered, or the bag was handed over elsewhere)."""
    task = _lock_open(task)
    clean = normalize_code(code)
    if clean:
        if clean != task.bag.pickup_code:
            raise InvalidInput(
                _(
                    "Pickup code: %(code)s is not this household's code. Ask again, "
                    "or leave the bag at the door with a photo."
                ),
                code=clean[:12],
            )
        method = Handover.Method.DOOR_CODE
        photo = None
    elif photo is not None:
        method = Handover.Method.LEFT_AT_DOOR
    else:
        raise InvalidInput(
            _("Enter the household's pickup code, or take a photo of the bag left at the door.")
        )
    handover = bag_hand_over(bag=task.bag, method=method, by=by, photo=photo)
    task.state = DoorTask.State.DELIVERED
    task.problem = ""
    save_audited(task, by=by, reason="door_task_deliver")
    return handover


@transaction.atomic
def door_task_problem(*, task: DoorTask, by: User | None, problem: str) -> DoorTask:
    """Report that the bag cannot be delivered (nobody answers, wrong address…); the
    compound's liaisons are told. Raises InvalidInput without a note, Conflict if delivered."""
    problem = " ".join((problem or "").split())
    if not problem:
        raise InvalidInput(_("Problem: say what went wrong."))
    task = _lock_open(task)
    task.state = DoorTask.State.PROBLEM
    task.problem = problem[:200]
    save_audited(task, by=by, reason="door_task_problem")
    delivery = task.bag.delivery
    liaisons = RoleGrant.objects.filter(role=Role.LIAISON, area=delivery.compound_id).values_list(
        "user_id", flat=True
    )
    send(
        "door_problem",
        users=list(liaisons),
        context={
            "address": str(task.bag.household.address),
            "compound": delivery.compound.name,
            "problem": task.problem,
        },
        dedupe_key=f"door_problem:{task.pk}:{task.history.count()}",
        link=reverse("lastmile:door_tasks", args=[delivery.pk]),
    )
    return task


@transaction.atomic
def door_task_reassign(*, task: DoorTask, volunteer: Volunteer, by: User | None) -> DoorTask:
    """Give the task to `volunteer` (reopening a task with a problem) and tell them.
    Raises InvalidInput for a volunteer of another compound or not active, Conflict if delivered."""
    task = _lock_open(task)
    delivery = task.bag.delivery
    if volunteer.compound_id != delivery.compound_id or not volunteer.active:
        raise InvalidInput(_("Volunteer: choose an active volunteer of this compound."))
    task.volunteer = volunteer
    task.state = DoorTask.State.OPEN
    save_audited(task, by=by, reason="door_task_reassign")
    _tell_volunteer(volunteer, delivery, 1)
    return task


# --- reads -----------------------------------------------------------------------------


def my_open_tasks(user: User) -> list[DoorTask]:
    """The user's open door tasks in walking order (across their deliveries)."""
    tasks = (
        DoorTask.objects.filter(
            volunteer__user=user,
            volunteer__active=True,
            state=DoorTask.State.OPEN,
            bag__state__in=CARRYABLE,
        )
        .exclude(bag__gate_state__in=SHORT_AT_GATE)
        .select_related("bag__building", "bag__household", "bag__delivery__compound")
    )
    return sorted(tasks, key=lambda t: walking_key(t.bag))


def delivery_tasks(delivery: Delivery) -> list[DoorTask]:
    tasks = DoorTask.objects.filter(bag__delivery=delivery).select_related(
        "bag__building", "bag__household", "volunteer", "bag__handover"
    )
    return sorted(tasks, key=lambda t: walking_key(t.bag))
