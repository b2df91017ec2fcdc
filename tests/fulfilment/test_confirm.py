from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.fulfilment import services
from baogong.fulfilment.services import Claim, share_first_come, share_pro_rata
from baogong.notify.models import Message
from baogong.orders.errors import BadTransition
from baogong.orders.models import Offer, Order, OrderLine, Round
from tests.fulfilment.conftest import close


def claims(*quantities):
    start = timezone.now()
    return [
        Claim(line_id=i + 1, order_id=i + 1, placed_at=start + dt.timedelta(minutes=i), quantity=q)
        for i, q in enumerate(quantities)
    ]


def test_first_come_fills_earliest_orders_first():
    assert share_first_come(claims(2, 3, 1), 4) == {1: 2, 2: 2, 3: 0}


def test_pro_rata_rounds_by_largest_remainder():
    # 4 of 6: exact shares 0.67, 1.33, 2.0 → floors 0, 1, 2 and the spare unit to line 1.
    assert share_pro_rata(claims(1, 2, 3), 4) == {1: 1, 2: 1, 3: 2}


def test_pro_rata_ties_go_to_the_earliest_order_and_shares_add_up():
    given = share_pro_rata(claims(1, 1, 1, 1), 2)
    assert given == {1: 1, 2: 1, 3: 0, 4: 0}
    for available in range(0, 13):
        given = share_pro_rata(claims(3, 1, 4, 1, 2), available)
        assert sum(given.values()) == min(available, 11)
        assert all(0 <= given[i + 1] <= q for i, q in enumerate((3, 1, 4, 1, 2)))


def assert_invariant(round_):
    for order in Order.objects.filter(round=round_).prefetch_related("lines"):
        expected = sum(
            (line.unit_price * (line.quantity - line.cut_quantity) for line in order.lines.all()),
            Decimal("0.00"),
        )
        assert order.amount_due == expected


@pytest.fixture
def supplier_user(user_with_role, supplier):
    return user_with_role(Role.SUPPLIER, supplier)


def test_confirm_first_come_cuts_late_orders(
    filled_round, supplier_user, django_capture_on_commit_callbacks
):
    round_ = close(filled_round.round)
    offer_a = filled_round.offers["A"]  # ordered 1, 2, 3, 1 by orders 0, 1, 3, 4
    with django_capture_on_commit_callbacks(execute=True):
        result = services.round_confirm(round_=round_, available={offer_a.pk: 4}, by=supplier_user)
    round_.refresh_from_db()
    assert round_.state == Round.State.CONFIRMED
    cuts = dict(OrderLine.objects.filter(offer=offer_a).values_list("order_id", "cut_quantity"))
    orders = filled_round.orders
    assert [cuts[orders[i].pk] for i in (0, 1, 3, 4)] == [0, 0, 2, 1]
    assert result.cut_units == {offer_a.pk: 3} and result.orders_cut == 2
    assert Offer.objects.get(pk=offer_a.pk).sold == 4
    late = Order.objects.get(pk=orders[3].pk)
    assert late.amount_due == Decimal("88.00") + Decimal("39.90")
    assert_invariant(round_)
    assert late.history.first().history_change_reason == "shortage at confirmation"
    kinds = dict(
        Message.objects.filter(household__isnull=False)
        .values_list("household_id", "kind")
        .distinct()
    )
    assert kinds[late.household_id] == "order_cut"
    assert kinds[orders[1].household_id] == "order_confirmed"


def test_confirm_pro_rata_shares_the_shortage(filled_round, supplier_user):
    round_ = filled_round.round
    round_.shortage_rule = Round.ShortageRule.PRO_RATA
    round_.save()
    round_ = close(round_)
    offer_b = filled_round.offers["B"]  # ordered 2, 1, 1, 1 by orders 0, 2, 3, 4
    services.round_confirm(round_=round_, available={offer_b.pk: 3}, by=supplier_user)
    supplied = {
        order_id: q - cut
        for order_id, q, cut in OrderLine.objects.filter(offer=offer_b).values_list(
            "order_id", "quantity", "cut_quantity"
        )
    }
    orders = filled_round.orders
    # Shares 1.2, 0.6, 0.6, 0.6 → floors 1, 0, 0, 0; remainders 0.6 each: the two earliest win.
    assert [supplied[orders[i].pk] for i in (0, 2, 3, 4)] == [1, 1, 1, 0]
    assert Offer.objects.get(pk=offer_b.pk).sold == 3
    assert_invariant(round_)


def test_confirm_without_shortage_changes_no_amounts(filled_round, supplier_user):
    round_ = close(filled_round.round)
    before = list(Order.objects.filter(round=round_).values_list("pk", "amount_due"))
    services.round_confirm(round_=round_, available={}, by=supplier_user)
    assert list(Order.objects.filter(round=round_).values_list("pk", "amount_due")) == before
    assert not OrderLine.objects.filter(order__round=round_, cut_quantity__gt=0).exists()


def test_confirming_twice_changes_nothing_more(filled_round, supplier_user):
    round_ = close(filled_round.round)
    offer_a = filled_round.offers["A"]
    services.round_confirm(round_=round_, available={offer_a.pk: 4}, by=supplier_user)
    services.round_confirm(round_=round_, available={offer_a.pk: 1}, by=supplier_user)
    assert Offer.objects.get(pk=offer_a.pk).sold == 4


def test_only_the_supplier_confirms(filled_round, user_with_role, tree):
    round_ = close(filled_round.round)
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    with pytest.raises(NotAllowed):
        services.round_confirm(round_=round_, available={}, by=liaison)
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED


def test_bad_input_writes_nothing(filled_round, supplier_user):
    round_ = close(filled_round.round)
    offer_a = filled_round.offers["A"]
    for available in ({offer_a.pk: -1}, {999_999: 1}, {offer_a.pk: "lots"}):
        with pytest.raises(InvalidInput):
            services.round_confirm(round_=round_, available=available, by=supplier_user)
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED
    assert not OrderLine.objects.filter(cut_quantity__gt=0).exists()


def test_an_open_round_cannot_be_confirmed(filled_round, supplier_user):
    with pytest.raises(BadTransition):
        services.round_confirm(round_=filled_round.round, available={}, by=supplier_user)


def test_liaison_sets_the_rule_before_confirmation(
    filled_round, user_with_role, tree, supplier_user
):
    liaison = user_with_role(Role.LIAISON, tree.district)
    round_ = services.round_set_shortage_rule(
        round_=filled_round.round, rule=Round.ShortageRule.PRO_RATA, by=liaison
    )
    assert round_.shortage_rule == Round.ShortageRule.PRO_RATA
    with pytest.raises(NotAllowed):
        services.round_set_shortage_rule(
            round_=round_, rule=Round.ShortageRule.FIRST_COME, by=supplier_user
        )
    # A liaison of one compound does not run a round of two.
    with pytest.raises(NotAllowed):
        services.round_set_shortage_rule(
            round_=round_,
            rule=Round.ShortageRule.FIRST_COME,
            by=user_with_role(Role.LIAISON, tree.compound_a),
        )
    services.round_confirm(round_=close(round_), available={}, by=supplier_user)
    with pytest.raises(Exception, match="before the supplier confirms"):
        services.round_set_shortage_rule(
            round_=round_, rule=Round.ShortageRule.FIRST_COME, by=liaison
        )
