"""The 15-working-day due date, counted by hand from the State Council's 2026 notice."""

from __future__ import annotations

import datetime as dt

import pytest

from baogong.requisitions.workdays import add_working_days


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Spring Festival 2026: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are working days.
        # 11,12,13,14 | 24,25,26,27,28 | Mar 2–6 | Mar 9 → the 15th working day.
        (dt.date(2026, 2, 10), dt.date(2026, 3, 9)),
        # Starting inside the holiday: Feb 24,25,26,27,28, Mar 2–6, Mar 9–13.
        (dt.date(2026, 2, 16), dt.date(2026, 3, 13)),
        # Mid-Autumn (Fri Sep 25) and National Day (Oct 1–7) 2026; Sun Sep 20 and Sat Oct 10
        # worked: Sep 28,29,30 | Oct 8,9,10 | 12–16 | 19,20,21,22.
        (dt.date(2026, 9, 24), dt.date(2026, 10, 22)),
        # An ordinary stretch: three weeks of Monday–Friday.
        (dt.date(2026, 11, 2), dt.date(2026, 11, 23)),
    ],
)
def test_fifteen_working_days_across_holidays(start, due):
    assert add_working_days(start, 15) == (due, False)


def test_a_year_the_calendar_does_not_cover_yet_is_provisional():
    due, provisional = add_working_days(dt.date(2026, 12, 21), 15)
    # Weekends only after 2026, so New Year's Day counts until the calendar knows 2027:
    # Dec 22,23,24,25,28,29,30,31 | Jan 1,4,5,6,7,8,11.
    assert provisional is True
    assert due == dt.date(2027, 1, 11)


def test_zero_days_is_the_start_and_negative_is_refused():
    assert add_working_days(dt.date(2026, 5, 1), 0) == (dt.date(2026, 5, 1), False)
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 5, 1), -1)
