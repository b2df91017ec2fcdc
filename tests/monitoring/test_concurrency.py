"""Reports for one outlet sent at the same moment get distinct revisions (PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from baogong.monitoring.models import OutletReport
from tests.monitoring.conftest import TODAY, file

THREADS = 8


def _race(outlet, rice, closings: list[int]) -> list[str]:
    start = threading.Barrier(len(closings))

    def submit(closing: int) -> str:
        try:
            start.wait()
            done = file(outlet, rice, TODAY, 100, 0, 100 - closing, closing, "6.00")
            return "created" if done.created else "unchanged"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(closings)) as pool:
        return list(pool.map(submit, closings))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_each_get_their_own_revision(outlet, rice):
    outcomes = _race(outlet, rice, [90 - n for n in range(THREADS)])
    assert outcomes == ["created"] * THREADS
    rows = OutletReport.objects.filter(outlet=outlet, date=TODAY)
    assert sorted(rows.values_list("revision", flat=True)) == list(range(1, THREADS + 1))
    assert rows.filter(is_latest=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_figures_sent_at_once_are_stored_once(outlet, rice):
    outcomes = _race(outlet, rice, [90] * THREADS)
    assert sorted(outcomes) == ["created"] + ["unchanged"] * (THREADS - 1)
    assert OutletReport.objects.filter(outlet=outlet).count() == 1
