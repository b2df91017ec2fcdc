"""Working days in mainland China: weekends, public holidays and adjusted working days.

The calendar is the maintained `chinesecalendar` package (import `chinese_calendar`),
which follows the State Council's yearly notice. A year the installed package does
not cover yet (its notice comes out in November or December) falls back to
Monday–Friday, and the result says so, so the due date can be shown as provisional
and recomputed after upgrading the package. No ORM here.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """Return (is a working day, whether the calendar actually covers that day)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: dt.date, days: int) -> tuple[dt.date, bool]:
    """The date `days` working days after `start` (start itself not counted).

    Returns (date, provisional): provisional is True when some counted day lay in
    a year the holiday calendar does not cover, so weekends alone were used.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day, counted, provisional = start, 0, False
    while counted < days:
        day += dt.timedelta(days=1)
        working, covered = is_working_day(day)
        provisional = provisional or not covered
        if working:
            counted += 1
    return day, provisional
