"""Two people calling the same resident at once (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from baogong.welfare import services
from baogong.welfare.models import CheckIn, SpecialCare, Task

THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_missed_calls_count_every_miss_and_make_one_visit(care, volunteer):
    start = threading.Barrier(THREADS)

    def call() -> None:
        try:
            start.wait()
            services.checkin_record(care=care, outcome=CheckIn.Outcome.NOT_REACHED, by=volunteer)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(call) for _ in range(THREADS)]:
            future.result()
    assert SpecialCare.objects.get(pk=care.pk).missed_calls == THREADS
    assert Task.objects.filter(kind=Task.Kind.HOME_VISIT, state=Task.State.OPEN).count() == 1
