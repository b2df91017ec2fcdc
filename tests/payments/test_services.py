from __future__ import annotations

from decimal import Decimal

import pytest

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.notify.models import Message
from baogong.orders.models import Order
from baogong.payments import services
from baogong.payments.models import Payment, Refund, Waiver
from baogong.payments.queries import order_money

D = Decimal


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


# --- payment_report ---------------------------------------------------------------------


def test_payment_report_marks_the_order_claimed_and_is_audited(money):
    order = money.orders[0]
    payment = services.payment_report(
        order=order, by=money.resident, payer_name="王 秀英", reference="4821"
    )
    assert payment.state == Payment.State.REPORTED
    assert payment.amount == D("88.00")
    assert payment.payer_name == "王 秀英"
    assert fresh(order).payment_state == Order.PaymentState.CLAIMED
    record = payment.history.latest()
    assert record.history_user == money.resident
    assert record.history_change_reason == "reported by the resident"
    assert fresh(order).history.latest().history_change_reason == "payment reported"


def test_payment_report_twice_corrects_the_first_report(money):
    order = money.orders[0]
    services.payment_report(order=order, by=money.resident, reference="1111")
    services.payment_report(order=order, by=money.resident, reference="4821")
    assert list(order.payments.values_list("reference", flat=True)) == ["4821"]


@pytest.mark.parametrize(
    ("payer", "reference"), [("", ""), ("", "1" * 41), ("", "四八二一"), ("", "1")]
)
def test_payment_report_refuses_bad_input_and_writes_nothing(money, payer, reference):
    with pytest.raises(InvalidInput):
        services.payment_report(
            order=money.orders[0], by=money.resident, payer_name=payer, reference=reference
        )
    assert not Payment.objects.exists()
    assert fresh(money.orders[0]).payment_state == Order.PaymentState.UNPAID


def test_payment_report_only_by_the_household(money):
    with pytest.raises(NotAllowed):
        services.payment_report(order=money.orders[1], by=money.resident, reference="4821")
    with pytest.raises(NotAllowed):
        services.payment_report(order=money.orders[0], by=money.liaison, reference="4821")
    assert not Payment.objects.exists()


def test_payment_report_refused_on_a_paid_or_dropped_order(money):
    order = money.orders[0]
    services.payment_record(order=order, by=money.liaison, amount="88", method="manual")
    with pytest.raises(Conflict):
        services.payment_report(order=order, by=money.resident, reference="4821")
    Order.objects.filter(pk=order.pk).update(state=Order.State.DROPPED)
    with pytest.raises(Conflict):
        services.payment_report(order=order, by=money.resident, reference="4821")


# --- confirm / reject -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supplier_user", "liaison", "community_staff"])
def test_payment_confirm_by_supplier_or_staff_over_the_compound_marks_paid(money, who):
    order = money.orders[0]
    payment = services.payment_report(order=order, by=money.resident, reference="4821")
    services.payment_confirm(payment=payment, by=getattr(money, who))
    payment.refresh_from_db()
    assert payment.state == Payment.State.CONFIRMED
    assert payment.confirmed_by == getattr(money, who)
    assert fresh(order).payment_state == Order.PaymentState.PAID
    # Twice: nothing more.
    services.payment_confirm(payment=payment, by=getattr(money, who))
    assert payment.history.count() == 2


def test_payment_confirm_refused_to_others(money):
    payment = services.payment_report(order=money.orders[0], by=money.resident, reference="4821")
    for user in (money.other_supplier_user, money.volunteer, money.resident):
        with pytest.raises(NotAllowed):
            services.payment_confirm(payment=payment, by=user)
    payment.refresh_from_db()
    assert payment.state == Payment.State.REPORTED


def test_payment_confirm_at_a_smaller_amount_leaves_the_order_unpaid(money):
    order = money.orders[0]
    payment = services.payment_report(order=order, by=money.resident, reference="4821")
    services.payment_confirm(payment=payment, by=money.liaison, amount="50.00")
    assert fresh(order).payment_state == Order.PaymentState.UNPAID
    assert order_money(order).unpaid == D("38.00")


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.234", "NaN"])
def test_payment_confirm_refuses_bad_amounts(money, amount):
    payment = services.payment_report(order=money.orders[0], by=money.resident, reference="4821")
    with pytest.raises(InvalidInput):
        services.payment_confirm(payment=payment, by=money.liaison, amount=amount)
    payment.refresh_from_db()
    assert payment.state == Payment.State.REPORTED


def test_payment_reject_returns_the_order_to_unpaid(money):
    order = money.orders[0]
    payment = services.payment_report(order=order, by=money.resident, reference="4821")
    services.payment_reject(payment=payment, by=money.supplier_user, reason="未收到")
    payment.refresh_from_db()
    assert payment.state == Payment.State.REJECTED
    assert fresh(order).payment_state == Order.PaymentState.UNPAID
    with pytest.raises(Conflict):
        services.payment_confirm(payment=payment, by=money.supplier_user)


def test_a_confirmed_payment_cannot_be_rejected(money):
    payment = services.payment_report(order=money.orders[0], by=money.resident, reference="4821")
    services.payment_confirm(payment=payment, by=money.liaison)
    with pytest.raises(Conflict):
        services.payment_reject(payment=payment, by=money.liaison)


# --- payment_record ---------------------------------------------------------------------


def test_cash_to_a_volunteer_waits_for_confirmation(money):
    order = money.orders[1]
    payment = services.payment_record(
        order=order, by=money.volunteer, amount="88.00", method=Payment.Method.CASH, payer_name="李"
    )
    assert payment.state == Payment.State.REPORTED
    assert fresh(order).payment_state == Order.PaymentState.CLAIMED
    with pytest.raises(NotAllowed):
        services.payment_record(
            order=order, by=money.volunteer, amount="1", method=Payment.Method.MANUAL
        )


def test_payment_record_by_the_supplier_is_confirmed(money):
    order = money.orders[1]
    services.payment_record(
        order=order, by=money.supplier_user, amount="88.00", method=Payment.Method.MANUAL
    )
    assert fresh(order).payment_state == Order.PaymentState.PAID


def test_payment_record_refuses_another_supplier_and_bad_methods(money):
    with pytest.raises(NotAllowed):
        services.payment_record(
            order=money.orders[1],
            by=money.other_supplier_user,
            amount="88",
            method=Payment.Method.MANUAL,
        )
    with pytest.raises(InvalidInput):
        services.payment_record(
            order=money.orders[1], by=money.liaison, amount="88", method=Payment.Method.STATEMENT
        )
    assert not Payment.objects.exists()


# --- waivers ----------------------------------------------------------------------------


def test_waiver_by_community_staff_marks_the_order_waived(money):
    order = money.orders[2]
    waiver = services.waiver_grant(
        order=order, by=money.community_staff, amount="88.00", reason="独居老人补贴"
    )
    assert fresh(order).payment_state == Order.PaymentState.WAIVED
    assert waiver.history.latest().history_user == money.community_staff


def test_partial_waiver_then_payment_of_the_rest_is_paid(money):
    order = money.orders[2]
    services.waiver_grant(order=order, by=money.community_staff, amount="40", reason="困难家庭")
    assert fresh(order).payment_state == Order.PaymentState.UNPAID
    assert order_money(order).unpaid == D("48.00")
    services.payment_record(order=order, by=money.liaison, amount="48", method="cash")
    assert fresh(order).payment_state == Order.PaymentState.PAID


def test_waiver_refused_to_liaison_supplier_and_volunteer(money):
    for user in (money.liaison, money.supplier_user, money.volunteer, money.resident):
        with pytest.raises(NotAllowed):
            services.waiver_grant(order=money.orders[2], by=user, amount="10", reason="x")
    assert not Waiver.objects.exists()


@pytest.mark.parametrize(
    ("amount", "reason"), [("10", "  "), ("0", "补贴"), ("88.01", "补贴"), ("-1", "补贴")]
)
def test_waiver_refuses_bad_input(money, amount, reason):
    with pytest.raises(InvalidInput):
        services.waiver_grant(
            order=money.orders[2], by=money.community_staff, amount=amount, reason=reason
        )
    assert not Waiver.objects.exists()


# --- refunds ----------------------------------------------------------------------------


def cut(order: Order, units: int) -> None:
    """What fulfilment does at confirmation: cut lines and lower amount_due together."""
    line = order.lines.get()
    line.cut_quantity = units
    line.save()
    Order.objects.filter(pk=order.pk).update(
        amount_due=line.unit_price * (line.quantity - line.cut_quantity)
    )


def test_refund_for_a_cut_line_after_payment(money):
    order = money.orders[0]
    Order.objects.filter(pk=order.pk).update(amount_due=D("176.00"))
    order.lines.update(quantity=2)
    services.payment_record(order=order, by=money.liaison, amount="176", method="manual")
    cut(order, 1)
    assert order_money(fresh(order)).refundable == D("88.00")
    refund = services.refund_issue(
        order=order, by=money.supplier_user, reason=Refund.Reason.SHORT_DELIVERED
    )
    assert refund.amount == D("88.00")
    assert order_money(order).refundable == D("0.00")
    assert fresh(order).payment_state == Order.PaymentState.PAID
    told = Message.objects.filter(kind="refund_issued")
    assert told.exists()
    assert {(m.dedupe_key, m.household_id) for m in told} == {
        (f"refund:{refund.pk}", order.household_id)
    }
    with pytest.raises(Conflict):
        services.refund_issue(
            order=order, by=money.supplier_user, reason=Refund.Reason.SHORT_DELIVERED
        )


def test_refund_due_counts_waivers(money):
    order = money.orders[0]
    services.payment_record(order=order, by=money.liaison, amount="88", method="manual")
    services.waiver_grant(order=fresh(order), by=money.community_staff, amount="30", reason="补贴")
    # received 88 − (due 88 − waived 30) = 30
    assert order_money(order).refundable == D("30.00")
    with pytest.raises(InvalidInput):
        services.refund_issue(order=order, by=money.liaison, reason="overpaid", amount="30.01")
    refund = services.refund_issue(
        order=order, by=money.liaison, reason="overpaid", kind=Refund.Kind.CREDIT_NOTE, amount="30"
    )
    assert refund.kind == Refund.Kind.CREDIT_NOTE
    services.refund_complete(refund=refund, by=money.liaison)
    refund.refresh_from_db()
    assert refund.state == Refund.State.COMPLETED


def test_refund_refuses_when_nothing_is_owed_and_to_others(money):
    order = money.orders[0]
    with pytest.raises(Conflict):
        services.refund_issue(order=order, by=money.liaison, reason="overpaid")
    with pytest.raises(NotAllowed):
        services.refund_issue(order=order, by=money.other_supplier_user, reason="overpaid")
    with pytest.raises(InvalidInput):
        services.refund_issue(order=order, by=money.liaison, reason="because")
    assert not Refund.objects.exists()


def test_money_is_never_float(money):
    with pytest.raises(InvalidInput):
        services.clean_amount("1e400")
    assert services.clean_amount(88) == D("88.00")
    assert isinstance(services.clean_amount("39.9"), D)
