"""The hot rows of a placement (placing.take_hot_rows): stock, round and cadence.

Every order of the concurrency test takes both offers; the statement locks their
rows in id order, so many placements at once neither deadlock nor sell past either
cap (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from baogong.orders import errors, placing, services
from baogong.orders.models import Offer, Order, Round
from tests.factories import HouseholdFactory

SUBMISSIONS = 120
THREADS = 40
STOCK = 40
DAYS_3 = dt.timedelta(days=3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_orders_taking_two_offers_at_once_sell_exactly_the_stock(tree, open_round):
    offers = list(Offer.objects.filter(round=open_round).order_by("code"))
    Offer.objects.filter(round=open_round).update(stock_cap=STOCK)
    households = [
        HouseholdFactory(building=tree.building_a, unit="1", room=str(2000 + i))
        for i in range(SUBMISSIONS)
    ]
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(batch) -> None:
        try:
            start.wait()
            for n, household in enumerate(batch):
                # Half the orders name the offers the other way round: same lock order.
                pair = offers if n % 2 else offers[::-1]
                try:
                    services.order_place(
                        round_=open_round,
                        household=household,
                        lines={offer.pk: 1 for offer in pair},
                        channel=Order.Channel.PROXY,
                        by=None,
                    )
                    result = "ok"
                except errors.SoldOut:
                    result = "sold_out"
                except errors.RoundNotOpen:
                    result = "closed"  # every offer sold out: the round closed itself
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    batches = [households[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(submit, batch) for batch in batches]:
            future.result()  # a deadlock would surface here as an OperationalError

    assert len(outcomes) == SUBMISSIONS
    assert outcomes.count("ok") == STOCK
    assert set(Offer.objects.filter(round=open_round).values_list("sold", flat=True)) == {STOCK}


def hot_rows(round_, deltas, *, count=False, cadence=None) -> placing.HotRows:
    return placing.take_hot_rows(round_id=round_.pk, deltas=deltas, count=count, cadence=cadence)


@pytest.mark.django_db
def test_a_shortage_names_the_first_short_offer_and_nothing_sold_out(open_round):
    a, b = Offer.objects.filter(round=open_round).order_by("pk")
    Offer.objects.filter(pk=b.pk).update(stock_cap=0)
    hot = hot_rows(open_round, {a.pk: 1, b.pk: 1})
    assert (hot.short, hot.sold_out) == (b.pk, False)


@pytest.mark.django_db
def test_a_reduction_and_an_increase_together(open_round):
    a, b = Offer.objects.filter(round=open_round).order_by("pk")
    Offer.objects.filter(pk=a.pk).update(sold=5, stock_cap=10)
    Offer.objects.filter(pk=b.pk).update(sold=1, stock_cap=3)
    hot = hot_rows(open_round, {a.pk: -1, b.pk: 2})
    assert (hot.short, hot.sold_out, hot.orders_count) == (None, True, 0)  # b's last unit
    assert dict(Offer.objects.filter(round=open_round).values_list("pk", "sold")) == {
        a.pk: 4,
        b.pk: 3,
    }


@pytest.mark.django_db
def test_a_closed_round_has_no_count_and_a_capped_one_counts_up_to_its_capacity(open_round):
    (a, *_rest) = Offer.objects.filter(round=open_round).order_by("pk")
    Round.objects.filter(pk=open_round.pk).update(capacity=1)
    assert hot_rows(open_round, {a.pk: 1}, count=True).orders_count == 1
    assert hot_rows(open_round, {a.pk: 1}, count=True).orders_count is None  # full
    assert hot_rows(open_round, {a.pk: 1}).orders_count == 1  # an edit is not counted
    Round.objects.filter(pk=open_round.pk).update(state=Round.State.CLOSED)
    assert hot_rows(open_round, {}).orders_count is None


@pytest.mark.django_db
def test_the_cadence_finds_a_live_order_of_another_round_in_the_window(
    tree, open_round, supplier, packages
):
    household = tree.household_a
    offer = Offer.objects.filter(round=open_round).first()
    placed = services.order_place(
        round_=open_round, household=household, lines={offer.pk: 1}, channel="proxy", by=None
    )
    second = services.round_create(
        supplier=supplier,
        title="第2期",
        areas=[tree.compound_a],
        opens_at=placed.placed_at - dt.timedelta(hours=1),
        cutoff_at=placed.placed_at + dt.timedelta(days=5),
        offers=[services.OfferSpec(packages[1], "1")],
        by=None,
    )
    services.round_transition(round_=second, action="open", by=None)
    window = placing.Cadence(household.pk, household.compound_id, placed.placed_at - DAYS_3)
    assert hot_rows(second, {}, cadence=window).previous == placed.placed_at
    assert hot_rows(open_round, {}, cadence=window).previous is None  # its own round
    later = placing.Cadence(household.pk, household.compound_id, placed.placed_at)
    assert hot_rows(second, {}, cadence=later).previous is None
    services.order_cancel(order=placed, by=None)
    assert hot_rows(second, {}, cadence=window).previous is None
