"""The money report adds up to the cent for any mix of orders, payments, waivers, refunds."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baogong.accounts.models import Role
from baogong.areas.models import Household
from baogong.core.errors import DomainError
from baogong.orders.models import Order
from baogong.payments import services
from baogong.payments.money import ZERO, MoneyTotals, OrderMoney, totals
from baogong.payments.queries import round_money_report
from baogong.supply.models import Supplier
from tests.factories import HouseholdFactory, UserFactory, grant
from tests.payments.conftest import close, make_round, place

cents = st.integers(min_value=1, max_value=30_000).map(lambda c: Decimal(c) / 100)
operation = st.tuples(
    st.sampled_from(["pay", "claim_confirm", "claim_reject", "waive", "cut", "refund", "drop"]),
    st.integers(min_value=0, max_value=5),  # which order
    cents,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=2), min_size=1, max_size=6),
    operations=st.lists(operation, max_size=25),
)
def test_money_report_adds_up_for_any_mix(tree, quantities, operations):
    supplier = Supplier.objects.create(name=f"超市{Supplier.objects.count()}", kind="supermarket")
    staff, seller = UserFactory(), UserFactory()
    grant(staff, Role.COMMUNITY_STAFF, area=tree.street_a.parent)  # the district: both sides
    grant(seller, Role.SUPPLIER, supplier=supplier)
    round_ = make_round(supplier, [tree.compound_a, tree.compound_b])
    buildings = [tree.building_a, tree.building_b]
    orders = []
    for i, quantity in enumerate(quantities):
        household = HouseholdFactory(
            building=buildings[i % 2], unit="9", room=str(Household.objects.count() + 1)
        )
        orders.append(place(round_, household, quantity))
    close(round_)

    # The test's own ledger, written only when a service accepted the operation.
    received = {o.pk: ZERO for o in orders}
    waived = {o.pk: ZERO for o in orders}
    refunded = {o.pk: ZERO for o in orders}
    for kind, index, amount in operations:
        order = Order.objects.get(pk=orders[index % len(orders)].pk)
        try:
            if kind == "pay":
                services.payment_record(order=order, by=seller, amount=amount, method="manual")
                received[order.pk] += amount
            elif kind in ("claim_confirm", "claim_reject"):
                resident = UserFactory()
                grant(resident, Role.RESIDENT, household=order.household)
                payment = services.payment_report(order=order, by=resident, reference="1234")
                if kind == "claim_confirm":
                    services.payment_confirm(payment=payment, by=seller, amount=amount)
                    received[order.pk] += amount
                else:
                    services.payment_reject(payment=payment, by=seller)
            elif kind == "waive":
                services.waiver_grant(order=order, by=staff, amount=amount, reason="补贴")
                waived[order.pk] += amount
            elif kind == "cut":
                line = order.lines.get()
                if line.cut_quantity < line.quantity:
                    line.cut_quantity += 1
                    line.save()
                    Order.objects.filter(pk=order.pk).update(
                        amount_due=line.unit_price * (line.quantity - line.cut_quantity)
                    )
            elif kind == "refund":
                refund = services.refund_issue(
                    order=order, by=seller, reason="short", amount=amount
                )
                refunded[order.pk] += refund.amount
            elif kind == "drop":
                Order.objects.filter(pk=order.pk).update(state=Order.State.DROPPED)
        except DomainError:
            pass

    report = round_money_report(round_, [tree.compound_a.pk, tree.compound_b.pk])
    total = report.total
    # The two identities, to the cent, on every row and on the total.
    for _name, row in report.rows:
        assert row.balanced
    assert total.balanced
    assert total.due == total.waived + total.paid + total.unpaid
    assert total.received == total.paid + total.refunded + total.credit
    # Rows add up to the total.
    summed = MoneyTotals()
    for _name, row in report.rows:
        summed.merge(row)
    assert summed == total
    # The report agrees with the ledger the test kept, computed independently.
    final = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o in orders])}
    due = {pk: (o.amount_due if o.state == Order.State.PLACED else ZERO) for pk, o in final.items()}
    assert total.due == sum(due.values(), ZERO)
    assert total.received == sum(received.values(), ZERO)
    assert total.refunded == sum(refunded.values(), ZERO)
    assert total.waived == sum((min(waived[pk], due[pk]) for pk in final), ZERO)
    expected_unpaid = sum(
        (
            max(due[pk] - min(waived[pk], due[pk]) - (received[pk] - refunded[pk]), ZERO)
            for pk in final
        ),
        ZERO,
    )
    assert total.unpaid == expected_unpaid
    for pk, order in final.items():
        # Refunds never exceed what was received; every figure stays at two decimals.
        assert refunded[pk] <= received[pk]
        if order.state == Order.State.PLACED and order.payment_state in ("paid", "waived"):
            owed = due[pk] - min(waived[pk], due[pk])
            # PAID/WAIVED was true when last set; later cuts only lower what is owed.
            assert received[pk] - refunded[pk] >= owed or waived[pk] >= due[pk]
    for value in (total.due, total.paid, total.unpaid, total.waived, total.credit):
        assert value == value.quantize(Decimal("0.01"))


@given(
    st.lists(
        st.tuples(cents, cents, cents, cents).map(
            lambda t: OrderMoney(due=t[0], received=t[1], waived=t[2], refunded=min(t[3], t[1]))
        ),
        max_size=30,
    )
)
def test_money_identities_hold_for_any_figures(moneys):
    result = totals(moneys)
    assert result.balanced
    for money in moneys:
        assert money.unpaid >= 0 and money.credit >= 0 and money.paid >= 0
        assert money.unpaid == 0 or money.credit == 0
