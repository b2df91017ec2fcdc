"""Several offers' stock taken in one statement (placing._stock_sql) under concurrency.

Every order takes both offers; the statement locks their rows in id order, so many
placements at once neither deadlock nor sell past either cap (PostgreSQL).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from baogong.orders import errors, placing, services
from baogong.orders.models import Offer, Order
from tests.factories import HouseholdFactory

SUBMISSIONS = 120
THREADS = 40
STOCK = 40


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


@pytest.mark.django_db
def test_a_shortage_names_the_first_short_offer_and_nothing_sold_out(open_round):
    a, b = Offer.objects.filter(round=open_round).order_by("pk")
    Offer.objects.filter(pk=b.pk).update(stock_cap=0)
    assert placing.take_stock({a.pk: 1, b.pk: 1}) == (b.pk, False)


@pytest.mark.django_db
def test_a_reduction_and_an_increase_together(open_round):
    a, b = Offer.objects.filter(round=open_round).order_by("pk")
    Offer.objects.filter(pk=a.pk).update(sold=5, stock_cap=10)
    Offer.objects.filter(pk=b.pk).update(sold=1, stock_cap=3)
    assert placing.take_stock({a.pk: -1, b.pk: 2}) == (None, True)  # b's last unit
    assert dict(Offer.objects.filter(round=open_round).values_list("pk", "sold")) == {
        a.pk: 4,
        b.pk: 3,
    }
