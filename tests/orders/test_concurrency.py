"""Stock caps and a round's capacity hold when many people order at once (PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from baogong.areas.models import Household
from baogong.orders import errors, services
from baogong.orders.models import Offer, Order, Round
from tests.factories import HouseholdFactory

SUBMISSIONS = 240
# PostgreSQL here allows 100 connections; 60 threads, each with its own connection,
# fire 4 submissions apiece from a common start line.
THREADS = 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_240_concurrent_orders_sell_exactly_the_50_in_stock(tree, open_round):
    offer = Offer.objects.get(round=open_round, code="B")
    Offer.objects.filter(pk=offer.pk).update(stock_cap=50)
    households = [tree.household_a] + [
        HouseholdFactory(building=tree.building_a, unit="1", room=str(1000 + i))
        for i in range(SUBMISSIONS - 1)
    ]
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(batch: list[Household]) -> None:
        try:
            start.wait()
            for household in batch:
                try:
                    services.order_place(
                        round_=open_round,
                        household=household,
                        lines={offer.pk: 1},
                        channel=Order.Channel.PROXY,
                        by=None,
                    )
                    result = "ok"
                except errors.SoldOut:
                    result = "sold_out"
                except errors.RoundNotOpen:
                    result = "closed"  # the round closes itself once every offer is sold out
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    batches = [households[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(submit, batch) for batch in batches]:
            future.result()  # re-raises anything unexpected (a 500 in the web tier)

    offer.refresh_from_db()
    assert len(outcomes) == SUBMISSIONS
    assert outcomes.count("ok") == 50
    assert offer.sold == 50
    assert Order.objects.filter(round=open_round, state=Order.State.PLACED).count() == 50
    assert set(outcomes) <= {"ok", "sold_out", "closed"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_240_concurrent_orders_fill_a_capacity_of_30_exactly(tree, open_round):
    Round.objects.filter(pk=open_round.pk).update(capacity=30)
    offer = Offer.objects.get(round=open_round, code="B")
    Offer.objects.filter(pk=offer.pk).update(stock_cap=10_000)
    households = [tree.household_a] + [
        HouseholdFactory(building=tree.building_a, unit="1", room=str(1000 + i))
        for i in range(SUBMISSIONS - 1)
    ]
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(batch: list[Household]) -> None:
        try:
            start.wait()
            for household in batch:
                try:
                    services.order_place(
                        round_=open_round,
                        household=household,
                        lines={offer.pk: 1},
                        channel=Order.Channel.PROXY,
                        by=None,
                    )
                    result = "ok"
                except errors.RoundFull:
                    result = "full"
                except errors.RoundNotOpen:
                    result = "closed"  # the round closes itself once its capacity is reached
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    batches = [households[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(submit, batch) for batch in batches]:
            future.result()

    open_round.refresh_from_db()
    assert len(outcomes) == SUBMISSIONS
    assert outcomes.count("ok") == 30
    assert open_round.orders_count == open_round.orders_total == 30
    assert Order.objects.filter(round=open_round, state=Order.State.PLACED).count() == 30
    assert set(outcomes) <= {"ok", "full", "closed"}
