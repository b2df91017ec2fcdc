"""The follow-up list: bags nobody collected by the end of the pickup stay in view.

Closing the pickup moves every bag still waiting at the pick-up point to UNCOLLECTED
(door-delivery bags stay with their door tasks). Each gets an action — phone the
household, take it to the door, keep it in storage — and a note; it can still be
handed over at any time, which takes it off the list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile.bags import clean_note, deliveries_moved, lock_bag
from baogong.lastmile.models import Bag, Delivery, DoorTask
from baogong.lastmile.queries import require_run

if TYPE_CHECKING:
    from baogong.accounts.models import User


@transaction.atomic
def delivery_pickup_close(*, delivery: Delivery, by: User | None) -> int:
    """Waiting bags (not door-delivered) → UNCOLLECTED; the delivery → DONE. Returns how many.

    Closing a delivery already done changes nothing and returns 0.
    """
    require_run(by, delivery)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.state == Delivery.State.DONE:
        return 0
    if delivery.state != Delivery.State.PICKUP:
        raise Conflict(
            _("The pickup can be closed only after the gate receipt; the delivery is %(state)s."),
            state=delivery.get_state_display(),
        )
    left = list(
        Bag.objects.select_for_update()
        .filter(delivery=delivery, state=Bag.State.WAITING, door_delivery=False)
        .order_by("pk")
    )
    for bag in left:
        bag.state = Bag.State.UNCOLLECTED
        bag._history_user = by
        bag._change_reason = "pickup closed"
        bag.save(update_fields=["state", "updated_at"])
    delivery.state = Delivery.State.DONE
    delivery._history_user = by
    delivery._change_reason = "pickup closed"
    delivery.save(update_fields=["state", "updated_at"])
    deliveries_moved([delivery], by=by)
    return len(left)


@transaction.atomic
def bag_follow_up(*, bag: Bag, action: str, note: str, by: User | None) -> Bag:
    """Record what is done about an uncollected bag (or a door task with a problem)."""
    if action not in Bag.FollowUp.values:
        raise InvalidInput(_("Choose phone, door delivery or storage."))
    note = clean_note(note)
    bag = lock_bag(bag)
    require_run(by, bag.delivery)
    if not followup_bags(bag.delivery).filter(pk=bag.pk).exists():
        raise Conflict(
            _("Bag %(code)s is not on the follow-up list (it is %(state)s)."),
            code=bag.pickup_code,
            state=bag.get_state_display(),
        )
    if (bag.follow_up, bag.follow_up_note) == (action, note):
        return bag
    bag.follow_up, bag.follow_up_note = action, note
    bag._history_user = by
    bag._change_reason = "follow-up"
    bag.save(update_fields=["follow_up", "follow_up_note", "updated_at"])
    return bag


def followup_bags(delivery: Delivery) -> QuerySet[Bag]:
    """Uncollected bags, and door-delivery bags whose task hit a problem, in walking order."""
    problem = Q(
        state=Bag.State.WAITING,
        door_task__state=DoorTask.State.PROBLEM,
    )
    return (
        Bag.objects.filter(delivery=delivery)
        .filter(Q(state=Bag.State.UNCOLLECTED) | problem)
        .select_related("household", "building", "door_task")
        .order_by("building__path", "household__unit", "household__room")
    )
