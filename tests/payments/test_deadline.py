from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import time_machine
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from baogong.notify.models import Message
from baogong.orders import services as order_services
from baogong.orders.models import Offer, Order, Round
from baogong.payments import services
from baogong.payments.models import Payment


def states(money) -> list[tuple[str, str]]:
    return [
        (o.state, o.payment_state)
        for o in Order.objects.filter(pk__in=[o.pk for o in money.orders]).order_by("pk")
    ]


def pay_some(money) -> None:
    """orders[0] paid, orders[1] claimed, orders[2] waived, orders[3] nothing."""
    services.payment_record(order=money.orders[0], by=money.liaison, amount="88", method="manual")
    services.payment_report(order=money.orders[1], by=money.resident_of(1), reference="4821")
    services.waiver_grant(
        order=money.orders[2], by=money.community_staff, amount="88", reason="低保户"
    )


def test_nothing_is_dropped_before_the_deadline(money):
    assert services.round_payments_close(round_id=money.round.pk) == 0
    assert Round.objects.get(pk=money.round.pk).payments_closed_at is None
    assert Order.objects.filter(state=Order.State.DROPPED).count() == 0


def test_at_the_deadline_unpaid_orders_are_dropped_once(money, django_capture_on_commit_callbacks):
    pay_some(money)
    offer = Offer.objects.get(round=money.round)
    assert offer.sold == 4
    assert money.round.orders_total == 4
    after = money.round.payment_deadline + dt.timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        assert services.round_payments_close(round_id=money.round.pk) == 1
        # Running twice (the task and the sweep) does nothing more.
        assert services.round_payments_close(round_id=money.round.pk) == 0
        call_command("payments_close_due", stdout=io.StringIO())
    assert states(money) == [
        (Order.State.PLACED, Order.PaymentState.PAID),
        (Order.State.PLACED, Order.PaymentState.CLAIMED),
        (Order.State.PLACED, Order.PaymentState.WAIVED),
        (Order.State.DROPPED, Order.PaymentState.UNPAID),
    ]
    round_ = Round.objects.get(pk=money.round.pk)
    assert round_.payments_closed_at is not None
    assert round_.orders_total == 3
    assert Offer.objects.get(pk=offer.pk).sold == 3
    dropped = Order.objects.get(pk=money.orders[3].pk)
    assert dropped.history.latest().history_change_reason == "dropped for non-payment"
    told = Message.objects.filter(kind="order_dropped")
    assert {(m.household_id, m.dedupe_key) for m in told} == {
        (dropped.household_id, f"order_dropped:{dropped.pk}")
    }


def test_dropping_releases_only_supplied_units(money):
    order = money.orders[3]
    paid = [o.pk for o in money.orders[:3]]
    Order.objects.filter(pk__in=paid).update(payment_state=Order.PaymentState.PAID)
    Order.objects.filter(pk=order.pk).update(amount_due=Decimal("176.00"))
    order.lines.update(quantity=2, cut_quantity=1)
    Offer.objects.filter(round=money.round).update(sold=5)
    with time_machine.travel(money.round.payment_deadline, tick=False):
        services.round_payments_close(round_id=money.round.pk)
    assert Offer.objects.get(round=money.round).sold == 4


def test_rejecting_a_claim_after_the_deadline_drops_the_order(money):
    payment = services.payment_report(
        order=money.orders[1], by=money.resident_of(1), reference="4821"
    )
    with time_machine.travel(money.round.payment_deadline, tick=False):
        services.round_payments_close(round_id=money.round.pk)
        assert Order.objects.get(pk=money.orders[1].pk).state == Order.State.PLACED
        services.payment_reject(payment=payment, by=money.liaison, reason="查无此款")
    assert Order.objects.get(pk=money.orders[1].pk).state == Order.State.DROPPED
    assert Payment.objects.get(pk=payment.pk).state == Payment.State.REJECTED


def test_cancelled_or_dispatched_rounds_are_left_alone(money):
    Round.objects.filter(pk=money.round.pk).update(state=Round.State.DISPATCHED)
    with time_machine.travel(money.round.payment_deadline, tick=False):
        assert services.round_payments_close(round_id=money.round.pk) == 0
    assert not Order.objects.filter(state=Order.State.DROPPED).exists()


def test_closing_a_round_enqueues_the_deadline_and_tells_households(
    tree, money, django_capture_on_commit_callbacks
):
    from tests.payments.conftest import make_round, place

    round_ = make_round(money.supplier, [tree.compound_a], title="第2期")
    Order.objects.all().update(placed_at=round_.opens_at - dt.timedelta(days=30))
    place(round_, money.households[0])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.round_transition(round_=round_, action="close", by=None)
    tasks = {t.task_path: t for t in DBTaskResult.objects.all()}
    close_task = tasks["baogong.payments.tasks.round_payments_close_task"]
    assert close_task.args_kwargs["args"] == [round_.pk]
    assert close_task.run_after == round_.payment_deadline
    assert "baogong.payments.tasks.round_payment_due_task" in tasks
    assert services.round_payment_due_send(round_id=round_.pk) == 1
    assert services.round_payment_due_send(round_id=round_.pk) == 1
    due = Message.objects.filter(kind="payment_due")
    assert due.exists()
    assert {m.dedupe_key for m in due} == {f"payment_due:{round_.orders.get().pk}"}
    assert due.count() == len({(m.household_id, m.recipient_id, m.channel) for m in due})


def test_the_task_waits_for_a_deadline_moved_later(money):
    from baogong.payments.tasks import round_payments_close_task

    later = money.round.payment_deadline + dt.timedelta(days=1)
    Round.objects.filter(pk=money.round.pk).update(payment_deadline=later)
    with time_machine.travel(later - dt.timedelta(hours=1), tick=False):
        assert round_payments_close_task.call(money.round.pk) == 0
    queued = DBTaskResult.objects.get(task_path="baogong.payments.tasks.round_payments_close_task")
    assert queued.run_after == later
    with time_machine.travel(later, tick=False):
        assert round_payments_close_task.call(money.round.pk) == 4
