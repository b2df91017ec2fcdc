"""A committed free distribution follows its compound deliveries: planned while they are
prepared, being handed out once one is at the gate, closed once every pickup is closed."""

from __future__ import annotations

import pytest

from baogong.distributions.models import Distribution
from baogong.lastmile.followup import delivery_pickup_close
from baogong.lastmile.models import Delivery
from baogong.lastmile.receipt import receipt_start
from tests.distributions.test_ledger import free_distribution, receive
from tests.lastmile.conftest import lastmile  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

State = Distribution.State


def test_the_distribution_moves_with_its_deliveries(
    lastmile,  # noqa: F811
    tree,
    django_capture_on_commit_callbacks,
):
    distribution = free_distribution(tree.compound_a)
    distribution.refresh_from_db()
    assert distribution.state == State.PLANNED
    delivery = Delivery.objects.get(distribution=distribution)

    with django_capture_on_commit_callbacks(execute=True):
        receipt_start(delivery=delivery, by=lastmile.liaison)
    distribution.refresh_from_db()
    assert distribution.state == State.DELIVERING

    with django_capture_on_commit_callbacks(execute=True):
        receive(delivery, lastmile.liaison)
        delivery_pickup_close(delivery=delivery, by=lastmile.liaison)
    distribution.refresh_from_db()
    assert distribution.state == State.CLOSED
    last = distribution.history.first()
    assert last.history_user == lastmile.liaison and last.history_change_reason == (
        "deliveries: closed"
    )


def test_a_round_delivery_moves_no_distribution(lastmile, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        receipt_start(delivery=lastmile.delivery, by=lastmile.liaison)
    assert callbacks == []
