from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.core.errors import NotAllowed
from baogong.orders import errors, services
from baogong.orders.models import Offer, Order, Round
from baogong.orders.pickup import ALPHABET
from tests.factories import HouseholdFactory


def offers_of(round_):
    return {o.code: o for o in Offer.objects.filter(round=round_)}


def test_order_place_counts_stock_and_amount(open_round, tree):
    offers = offers_of(open_round)
    order = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 2, offers["B"].pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    assert order.amount_due == Decimal("215.90")
    assert len(order.pickup_code) == 6 and set(order.pickup_code) <= set(ALPHABET)
    offers = offers_of(open_round)
    assert (offers["A"].sold, offers["B"].sold) == (2, 1)
    open_round.refresh_from_db()
    # Without a capacity the round's row is not counted in: its orders are counted on read.
    assert (open_round.orders_count, open_round.orders_total) == (0, 1)


def test_ordering_again_edits_the_same_order(open_round, tree):
    offers = offers_of(open_round)
    first = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 2},
        channel=Order.Channel.PROXY,
        by=None,
    )
    second = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["B"].pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    assert first.pk == second.pk and first.pickup_code == second.pickup_code
    assert list(second.lines.values_list("offer__code", "quantity")) == [("B", 1)]
    offers = offers_of(open_round)
    assert (offers["A"].sold, offers["B"].sold) == (0, 1)


def test_over_limit_is_refused_and_nothing_written(open_round, tree):
    offers = offers_of(open_round)
    with pytest.raises(errors.OverLimit) as refused:
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 3},
            channel=Order.Channel.PROXY,
            by=None,
        )
    assert "2" in refused.value.message
    assert not Order.objects.exists()
    assert offers_of(open_round)["A"].sold == 0


def test_sold_out_says_what_is_left(open_round, tree):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=1)
    offers = offers_of(open_round)
    with pytest.raises(errors.SoldOut) as refused:
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 2},
            channel=Order.Channel.PROXY,
            by=None,
        )
    assert refused.value.code == "sold_out"
    assert not Order.objects.exists()


def test_household_outside_the_round_is_refused(open_round, tree):
    offers = offers_of(open_round)
    with pytest.raises(errors.NotInRoundArea):
        services.order_place(
            round_=open_round,
            household=tree.household_b,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )


def test_closed_round_refuses_orders(open_round, tree):
    services.round_transition(round_=open_round, action="close", by=None)
    offers = offers_of(open_round)
    with pytest.raises(errors.RoundNotOpen):
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )


def test_after_cutoff_orders_are_refused(open_round, tree):
    offers = offers_of(open_round)
    later = open_round.cutoff_at + dt.timedelta(minutes=1)
    with pytest.raises(errors.RoundNotOpen):
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
            now=later,
        )


def test_cadence_refuses_a_second_round_within_three_days(open_round, tree, supplier, packages):
    offers = offers_of(open_round)
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    now = timezone.now()
    second = services.round_create(
        supplier=supplier,
        title="第2期",
        areas=[tree.community_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=5),
        offers=[services.OfferSpec(packages[1], "1")],
        by=None,
    )
    services.round_transition(round_=second, action="open", by=None)
    veg = offers_of(second)["1"]
    with pytest.raises(errors.CadenceRule) as refused:
        services.order_place(
            round_=second,
            household=tree.household_a,
            lines={veg.pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )
    assert "3" in refused.value.message
    # Three days later it is allowed.
    services.order_place(
        round_=second,
        household=tree.household_a,
        lines={veg.pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
        now=now + dt.timedelta(days=3, minutes=1),
    )


def test_capacity_closes_the_round_and_tells_liaison(
    open_round, tree, user_with_role, django_capture_on_commit_callbacks
):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    Round.objects.filter(pk=open_round.pk).update(capacity=1)
    open_round.refresh_from_db()
    other = HouseholdFactory(building=tree.building_a, unit="1", room="101")
    offers = offers_of(open_round)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["B"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CLOSED
    assert liaison.messages.filter(kind="round_close").exists()
    with pytest.raises(errors.RoundNotOpen):
        services.order_place(
            round_=open_round,
            household=other,
            lines={offers["B"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )


def test_cancel_gives_stock_back_once(open_round, tree):
    offers = offers_of(open_round)
    order = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 2},
        channel=Order.Channel.PROXY,
        by=None,
    )
    services.order_cancel(order=order, by=None)
    services.order_cancel(order=order, by=None)
    assert offers_of(open_round)["A"].sold == 0
    open_round.refresh_from_db()
    assert (open_round.orders_count, open_round.orders_total) == (0, 0)


def test_a_round_with_a_capacity_counts_its_orders_and_gives_places_back(open_round, tree):
    Round.objects.filter(pk=open_round.pk).update(capacity=2)
    open_round.refresh_from_db()
    offers = offers_of(open_round)

    def place(household):
        return services.order_place(
            round_=open_round,
            household=household,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )

    order = place(tree.household_a)
    place(tree.household_a)  # an edit is not a second place
    open_round.refresh_from_db()
    assert (open_round.orders_count, open_round.orders_total) == (1, 1)
    services.order_cancel(order=order, by=None)
    open_round.refresh_from_db()
    assert (open_round.orders_count, open_round.orders_total) == (0, 0)
    place(tree.household_a)
    open_round.refresh_from_db()
    assert (open_round.orders_count, open_round.orders_total) == (1, 1)


def test_proxy_orders_only_for_households_in_own_area(open_round, tree, user_with_role):
    offers = offers_of(open_round)
    liaison_b = user_with_role(Role.LIAISON, tree.compound_b)
    with pytest.raises(NotAllowed):
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.PROXY,
            by=liaison_b,
        )
    resident_b = user_with_role(Role.RESIDENT, tree.household_b)
    with pytest.raises(NotAllowed):
        services.order_place(
            round_=open_round,
            household=tree.household_a,
            lines={offers["A"].pk: 1},
            channel=Order.Channel.SELF,
            by=resident_b,
        )
    resident_a = user_with_role(Role.RESIDENT, tree.household_a)
    order = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 1},
        channel=Order.Channel.SELF,
        by=resident_a,
    )
    assert order.entered_by == resident_a
    assert order.history.first().history_user == resident_a


def test_round_transitions_are_checked_and_audited(open_round, tree, user_with_role):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    with pytest.raises(errors.BadTransition):
        services.round_transition(round_=open_round, action="settle", by=None)
    with pytest.raises(NotAllowed):
        services.round_transition(round_=open_round, action="confirm", by=liaison)
    services.round_transition(round_=open_round, action="close", by=liaison)
    services.round_transition(round_=open_round, action="close", by=liaison)  # twice: no-op
    last = open_round.history.first()
    assert (last.state, last.history_user, last.history_change_reason) == (
        "closed",
        liaison,
        "close",
    )


def test_round_create_refuses_other_suppliers_packages_and_bad_areas(tree, supplier, packages):
    from baogong.supply.models import Package, Supplier

    other = Supplier.objects.create(name="别家", kind=Supplier.Kind.SMALL_SHOP)
    foreign = Package.objects.create(supplier=other, name="x", price=Decimal("1"))
    now = timezone.now()
    with pytest.raises(Exception) as refused:
        services.round_create(
            supplier=supplier,
            title="t",
            areas=[tree.compound_a],
            opens_at=now,
            cutoff_at=now + dt.timedelta(hours=1),
            offers=[services.OfferSpec(foreign, "A")],
            by=None,
        )
    assert refused.value.code == "invalid_input"
    building = Area.objects.filter(kind=Area.Kind.BUILDING).first()
    with pytest.raises(Exception) as refused:
        services.round_create(
            supplier=supplier,
            title="t",
            areas=[building],
            opens_at=now,
            cutoff_at=now + dt.timedelta(hours=1),
            offers=[services.OfferSpec(packages[0], "A")],
            by=None,
        )
    assert refused.value.code == "invalid_input"
