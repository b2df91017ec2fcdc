"""Many hands taking from one lot at once never take more than is on hand (PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from baogong.core.errors import Conflict
from baogong.requisitions import ledger
from baogong.requisitions.models import DistributionEntry, Stock
from tests.factories import HouseholdFactory

THREADS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_distributions_stop_at_what_is_on_hand(chain):
    chain.received()  # 20 bags of rice at the street
    stock = Stock.objects.get(
        holder=chain.tree.street_a, receipt_line__allocation_line__item="大米"
    )
    households = [
        HouseholdFactory(building=chain.tree.building_a, room=str(900 + i)) for i in range(THREADS)
    ]
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def take(household) -> None:
        try:
            start.wait()
            try:
                ledger.distribute(
                    stock=stock, quantity="3", to_household=household, by=chain.street_staff
                )
                result = "ok"
            except Conflict:
                result = "refused"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(take, households))
    stock.refresh_from_db()
    assert outcomes.count("ok") == 6 and outcomes.count("refused") == THREADS - 6
    assert stock.on_hand == Decimal("2.00")
    handed = DistributionEntry.objects.aggregate(t=Sum("quantity"))["t"]
    assert handed == Decimal("18.00") == stock.distributed
