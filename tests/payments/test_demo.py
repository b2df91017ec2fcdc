from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from baogong.orders.models import Order, Round
from baogong.payments.demo import RECONCILED_TITLE, WAITING_TITLE
from baogong.payments.models import Payment, Refund, Statement, StatementLine, Waiver
from baogong.payments.queries import round_money_report
from baogong.supply.models import Supplier


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO())


def counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (Payment, Refund, Statement, StatementLine, Waiver, Payment.history.model)
    )


def test_demo_has_a_reconciled_round_and_one_waiting_for_payments(demo):
    supplier = Supplier.objects.get(name="武商")
    assert supplier.payment_qr
    reconciled = Round.objects.get(title=RECONCILED_TITLE)
    statement = Statement.objects.get(supplier=supplier)
    states = set(statement.lines.values_list("match_state", flat=True))
    assert {"matched", "unmatched"} <= states
    assert Waiver.objects.filter(order__round=reconciled).count() == 1
    assert Refund.objects.filter(order__round=reconciled).count() == 1
    assert (
        reconciled.payments_closed_at is not None
        or Round.objects.get(pk=reconciled.pk).payments_closed_at is not None
    )
    assert Order.objects.filter(round=reconciled, state=Order.State.DROPPED).exists()
    report = round_money_report(
        reconciled, list(reconciled.orders.values_list("compound_id", flat=True))
    )
    assert report.total.balanced and report.total.paid > 0 and report.total.refunded > 0

    waiting = Round.objects.get(title=WAITING_TITLE)
    assert waiting.state == Round.State.CLOSED and waiting.payments_closed_at is None
    payment_states = set(waiting.orders.values_list("payment_state", flat=True))
    assert {"paid", "claimed", "unpaid"} <= payment_states

    before = counts()
    call_command("load_demo", stdout=StringIO())
    assert counts() == before
