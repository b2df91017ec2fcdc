from __future__ import annotations

import datetime as dt
from decimal import Decimal

from baogong.monitoring.checks import FLAG_BALANCE, check_figures, tolerance
from tests.monitoring.conftest import figures

DAY = dt.date(2026, 3, 20)


def check(values, previous_price=None, date=DAY):
    return check_figures(figures(*values), date=date, today=DAY, previous_price=previous_price)


def test_consistent_figures_pass_without_flags():
    outcome = check((100, 20, 30, 90, "6.00"), previous_price=Decimal("5.80"))
    assert outcome.ok and outcome.flags == []


def test_closing_off_balance_beyond_tolerance_is_flagged_with_the_reason():
    outcome = check((100, 20, 30, 80, "6.00"))  # expected 90, tolerance max(1, 2.4) = 2.4
    assert outcome.ok
    assert outcome.flags == [FLAG_BALANCE]
    assert "90" in outcome.reasons[0] and "2.40" in outcome.reasons[0]


def test_closing_within_tolerance_is_not_flagged():
    assert tolerance(figures(100, 20, 30, 88, 6)) == Decimal("2.40")
    assert check((100, 20, 30, 88, "6.00")).flags == []


def test_negative_stock_is_refused():
    outcome = check((100, 0, 130, -30, "6.00"))
    assert not outcome.ok
    assert any("closing stock cannot be negative" in e for e in outcome.errors)


def test_price_ten_times_the_last_is_refused_and_a_tenth_too():
    assert not check((10, 0, 1, 9, "60.00"), previous_price=Decimal("6.00")).ok
    assert not check((10, 0, 1, 9, "0.60"), previous_price=Decimal("6.00")).ok
    assert check((10, 0, 1, 9, "59.99"), previous_price=Decimal("6.00")).ok


def test_future_date_and_zero_price_are_refused():
    outcome = check((10, 0, 1, 9, "0"), date=DAY + dt.timedelta(days=1))
    assert len(outcome.errors) == 2
