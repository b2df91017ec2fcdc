"""The follow-up list: uncollected bags stay in view and can still be handed over."""

from __future__ import annotations

import pytest

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.lastmile.followup import bag_follow_up, delivery_pickup_close, followup_bags
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, DoorTask
from baogong.lastmile.receipt import bags_check, receipt_finish, receipt_start


@pytest.fixture
def picking_up(lastmile):
    """compound_a received in full (pickup under way); households 0 and 4 collected."""
    delivery = lastmile.delivery
    receipt_start(delivery=delivery, by=lastmile.liaison)
    bags_check(
        delivery=delivery,
        bag_ids=list(delivery.bags.values_list("pk", flat=True)),
        gate_state=Bag.GateState.RECEIVED,
        by=lastmile.liaison,
    )
    receipt_finish(delivery=delivery, by=lastmile.liaison)
    for index in (0, 4):
        bag_hand_over(bag=lastmile.bag(index), method="code", by=lastmile.liaison)
    return lastmile


def test_close_moves_waiting_bags_but_not_door_bags_to_the_list(picking_up):
    moved = delivery_pickup_close(delivery=picking_up.delivery, by=picking_up.liaison)
    assert moved == 3  # 1, 2 and 5; 3 is the sealed household's door bag
    states = {i: picking_up.bag(i).state for i in range(6)}
    assert states == {
        0: Bag.State.COLLECTED,
        1: Bag.State.UNCOLLECTED,
        2: Bag.State.UNCOLLECTED,
        3: Bag.State.WAITING,
        4: Bag.State.COLLECTED,
        5: Bag.State.UNCOLLECTED,
    }
    picking_up.delivery.refresh_from_db()
    assert picking_up.delivery.state == Delivery.State.DONE
    assert delivery_pickup_close(delivery=picking_up.delivery, by=picking_up.liaison) == 0


def test_close_before_the_gate_receipt_is_refused(lastmile):
    with pytest.raises(Conflict, match="only after the gate receipt"):
        delivery_pickup_close(delivery=lastmile.delivery, by=lastmile.liaison)
    with pytest.raises(NotAllowed):
        delivery_pickup_close(delivery=lastmile.delivery, by=lastmile.volunteer)


def test_follow_up_action_and_note(picking_up):
    delivery_pickup_close(delivery=picking_up.delivery, by=picking_up.liaison)
    bag = bag_follow_up(
        bag=picking_up.bag(1), action=Bag.FollowUp.PHONE, note="晚上再打", by=picking_up.liaison
    )
    assert (bag.follow_up, bag.follow_up_note) == ("phone", "晚上再打")
    with pytest.raises(InvalidInput, match="Choose phone"):
        bag_follow_up(bag=picking_up.bag(1), action="bin", note="", by=picking_up.liaison)
    with pytest.raises(Conflict, match="not on the follow-up list"):
        bag_follow_up(bag=picking_up.bag(0), action="phone", note="", by=picking_up.liaison)
    with pytest.raises(NotAllowed):
        bag_follow_up(bag=picking_up.bag(1), action="phone", note="", by=picking_up.other_liaison)


def test_a_bag_on_the_list_can_still_be_handed_over_and_leaves_it(picking_up):
    delivery_pickup_close(delivery=picking_up.delivery, by=picking_up.liaison)
    assert picking_up.bag(5) in followup_bags(picking_up.delivery)
    bag_hand_over(bag=picking_up.bag(5), method="code", by=picking_up.volunteer_10)
    assert picking_up.bag(5) not in followup_bags(picking_up.delivery)
    assert picking_up.bag(5).state == Bag.State.COLLECTED


def test_door_tasks_with_a_problem_are_on_the_list(picking_up):
    door_bag = picking_up.bag(3)
    task = DoorTask.objects.get(bag=door_bag)  # made when the gate receipt finished
    task.state, task.problem = DoorTask.State.PROBLEM, "没人开门"
    task.save()
    assert door_bag in followup_bags(picking_up.delivery)
