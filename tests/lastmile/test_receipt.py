"""Gate receipt: checking bags, settling the shortfall once, money and counts reconcile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.lastmile.models import Bag, Delivery, DoorTask, GateReceipt, Volunteer
from baogong.lastmile.receipt import bag_check, bags_check, receipt_finish, receipt_start
from baogong.notify.models import Message
from baogong.orders import services as order_services
from baogong.orders.models import Order, OrderLine, Round
from baogong.payments.models import Refund
from baogong.payments.queries import round_money_report

RECEIVED, MISSING, DAMAGED = Bag.GateState.RECEIVED, Bag.GateState.MISSING, Bag.GateState.DAMAGED


def _check_all(lastmile, marks: dict[int, str]) -> None:
    for index in range(len(lastmile.households)):
        bag_check(
            bag=lastmile.bag(index), gate_state=marks.get(index, RECEIVED), by=lastmile.liaison
        )


@pytest.fixture
def started(lastmile):
    receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    return lastmile


def test_start_moves_the_delivery_to_receiving_once(lastmile):
    first = receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    again = receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    assert first == again
    assert GateReceipt.objects.count() == 1
    lastmile.delivery.refresh_from_db()
    assert lastmile.delivery.state == Delivery.State.RECEIVING


def test_only_those_running_the_compound_receive(lastmile):
    for user in (lastmile.volunteer, lastmile.other_liaison, lastmile.supplier_user):
        with pytest.raises(NotAllowed):
            receipt_start(delivery=lastmile.delivery, by=user)


def test_bags_are_checked_only_while_receiving(lastmile):
    with pytest.raises(Conflict, match="while the delivery is being received"):
        bag_check(bag=lastmile.bag(0), gate_state=RECEIVED, by=lastmile.liaison)


def test_start_withdraws_bags_of_orders_cancelled_since(lastmile):
    order = lastmile.orders[1]
    Order.objects.filter(pk=order.pk).update(state=Order.State.CANCELLED)
    receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    assert lastmile.bag(1).state == Bag.State.VOID
    with pytest.raises(InvalidInput, match="withdrawn"):
        bag_check(bag=lastmile.bag(1), gate_state=RECEIVED, by=lastmile.liaison)


def test_bad_gate_state_and_long_note_are_refused(started):
    with pytest.raises(InvalidInput, match="Choose received"):
        bag_check(bag=started.bag(0), gate_state="lost", by=started.liaison)
    with pytest.raises(InvalidInput, match="200 characters"):
        bag_check(bag=started.bag(0), gate_state=MISSING, by=started.liaison, note="x" * 201)


def test_ticking_a_list_marks_its_bags(started):
    ids = [started.bag(i).pk for i in (0, 1, 2, 3)]
    assert (
        bags_check(delivery=started.delivery, bag_ids=ids, gate_state=RECEIVED, by=started.liaison)
        == 4
    )
    # Again: nothing changes.
    assert (
        bags_check(delivery=started.delivery, bag_ids=ids, gate_state=RECEIVED, by=started.liaison)
        == 0
    )
    assert started.bag(0).checked_by == started.liaison


def test_ticking_a_stale_list_keeps_a_bag_marked_missing_since(started):
    bag_check(bag=started.bag(1), gate_state=MISSING, by=started.liaison, note="not on the truck")
    ids = [started.bag(i).pk for i in (0, 1)]
    bags_check(delivery=started.delivery, bag_ids=ids, gate_state=RECEIVED, by=started.liaison)
    assert started.bag(1).gate_state == MISSING
    assert started.bag(0).gate_state == RECEIVED


def test_finish_refuses_while_bags_are_unchecked(started):
    bag_check(bag=started.bag(0), gate_state=RECEIVED, by=started.liaison)
    with pytest.raises(Conflict, match="5 bags are not checked yet"):
        receipt_finish(delivery=started.delivery, by=started.liaison)


def test_finish_settles_the_shortfall_refund_and_notices(started):
    paid_missing, unpaid_damaged = 0, 2
    _check_all(started, {paid_missing: MISSING, unpaid_damaged: DAMAGED})
    summary = receipt_finish(delivery=started.delivery, by=started.liaison)

    assert summary.reconciles
    counts = summary.counts
    assert (counts.expected, counts.received, counts.missing, counts.damaged) == (6, 4, 1, 1)
    assert summary.refunded == Decimal("88.00")
    # The missing, paid bag: withdrawn, lines cut, amount due follows, money refunded.
    order = Order.objects.get(pk=started.orders[paid_missing].pk)
    line = OrderLine.objects.get(order=order)
    assert line.cut_quantity == line.quantity
    assert order.amount_due == Decimal("0.00")
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.reason, refund.kind) == (
        Decimal("88.00"),
        Refund.Reason.NOT_DELIVERED,
        Refund.Kind.REFUND,
    )
    assert started.bag(paid_missing).state == Bag.State.VOID
    # The damaged, unpaid bag: nothing to refund, nothing owed any more.
    unpaid = Order.objects.get(pk=started.orders[unpaid_damaged].pk)
    assert unpaid.amount_due == Decimal("0.00")
    assert not Refund.objects.filter(order=unpaid).exists()
    # Both households are told, the supplier once.
    kinds = list(Message.objects.values_list("kind", flat=True))
    assert kinds.count("gate_shortfall") == 1
    assert Message.objects.filter(kind="gate_shortfall", recipient=started.supplier_user).exists()
    assert {m.household_id for m in Message.objects.filter(kind="bag_missing")} == {
        started.households[paid_missing].pk,
        started.households[unpaid_damaged].pk,
    }
    started.delivery.refresh_from_db()
    assert started.delivery.state == Delivery.State.PICKUP


def test_finishing_twice_changes_nothing(started):
    _check_all(started, {0: MISSING})
    receipt_finish(delivery=started.delivery, by=started.liaison)
    messages, refunds = Message.objects.count(), Refund.objects.count()
    summary = receipt_finish(delivery=started.delivery, by=started.liaison)
    assert (Message.objects.count(), Refund.objects.count()) == (messages, refunds)
    assert summary.refunded == Decimal("88.00")
    assert len(summary.shortfalls) == 1


def test_finish_gives_the_door_bags_that_arrived_to_the_building_volunteers(started):
    sealed = 3  # 1-301 in 3号楼: a door-delivery bag
    volunteer = Volunteer.objects.create(
        name="甲志愿",
        phone="17030000001",
        compound=started.delivery.compound,
        building=started.building_3,
        user=started.volunteer,
    )
    _check_all(started, {})
    receipt_finish(delivery=started.delivery, by=started.liaison)

    task = DoorTask.objects.get()
    assert (task.bag, task.volunteer, task.state) == (
        started.bag(sealed),
        volunteer,
        DoorTask.State.OPEN,
    )
    assert Message.objects.filter(kind="door_tasks_assigned", recipient=started.volunteer).exists()
    receipt_finish(delivery=started.delivery, by=started.liaison)
    assert DoorTask.objects.count() == 1


def test_a_door_bag_missing_at_the_gate_gets_no_task(started):
    _check_all(started, {3: MISSING})
    receipt_finish(delivery=started.delivery, by=started.liaison)
    assert not DoorTask.objects.exists()


def test_credit_note_instead_of_refund(started):
    _check_all(started, {1: MISSING})
    receipt_finish(delivery=started.delivery, by=started.liaison, credit=True)
    assert Refund.objects.get(order=started.orders[1]).kind == Refund.Kind.CREDIT_NOTE


def test_money_report_still_adds_up_after_shortfalls(started):
    _check_all(started, {0: MISSING, 2: DAMAGED, 4: Bag.GateState.WRONG})
    receipt_finish(delivery=started.delivery, by=started.liaison)
    report = round_money_report(started.round, [started.delivery.compound_id])
    total = report.total
    assert total.balanced
    assert total.due == total.waived + total.paid + total.unpaid
    assert total.received == total.paid + total.refunded + total.credit
    # 5 paid orders of 88.00 in compound_a, two of them short: 176.00 back.
    assert total.received == Decimal("440.00")
    assert total.refunded == Decimal("176.00")
    assert total.due == Decimal("264.00")


def test_shortfall_on_a_handed_over_bag_is_refused(started):
    from baogong.lastmile.handover import bag_hand_over

    bag_check(bag=started.bag(1), gate_state=RECEIVED, by=started.liaison)
    bag_hand_over(bag=started.bag(1), method="code", by=started.liaison)
    with pytest.raises(Conflict, match="already handed over"):
        bag_check(bag=started.bag(1), gate_state=MISSING, by=started.liaison)


def test_round_is_delivered_when_every_compound_is_past_the_gate(lastmile, user_with_role, tree):
    from baogong.accounts.models import Role

    staff_b = user_with_role(Role.LIAISON, tree.compound_b)
    receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    _check_all(lastmile, {})
    receipt_finish(delivery=lastmile.delivery, by=lastmile.liaison)
    assert Round.objects.get(pk=lastmile.round.pk).state == Round.State.CONFIRMED
    order_services.round_transition(round_=lastmile.round, action="dispatch", by=None)
    receipt_start(delivery=lastmile.other_delivery, by=staff_b)
    bag_check(bag=lastmile.other_delivery.bags.get(), gate_state=RECEIVED, by=staff_b)
    receipt_finish(delivery=lastmile.other_delivery, by=staff_b)
    assert Round.objects.get(pk=lastmile.round.pk).state == Round.State.DELIVERED


def test_a_round_nobody_dispatched_is_delivered_too(lastmile, user_with_role, tree):
    from baogong.accounts.models import Role

    staff_b = user_with_role(Role.LIAISON, tree.compound_b)
    for delivery, by in ((lastmile.delivery, lastmile.liaison), (lastmile.other_delivery, staff_b)):
        receipt_start(delivery=delivery, by=by)
        bags_check(
            delivery=delivery,
            bag_ids=list(delivery.bags.values_list("pk", flat=True)),
            gate_state=RECEIVED,
            by=by,
        )
        receipt_finish(delivery=delivery, by=by)
    assert Round.objects.get(pk=lastmile.round.pk).state == Round.State.DELIVERED
