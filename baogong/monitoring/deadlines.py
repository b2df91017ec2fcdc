"""Reporting deadlines as dates and times, with no database.

A daily schedule is due every day at its time, for that day's figures. A
periodic one (the 10th, 20th and 30th at 09:00) is due on those days for the
figures up to the day before; a day past the month's end (30 in February)
means the month's last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

DAILY = "daily"
PERIODIC = "periodic"


@dataclass(frozen=True)
class Due:
    at: dt.datetime  # aware
    report_date: dt.date  # the day whose figures must be in by `at`


def _due_days(kind: str, days: list[int], year: int, month: int) -> list[int]:
    last = calendar.monthrange(year, month)[1]
    if kind == DAILY:
        return list(range(1, last + 1))
    return sorted({min(day, last) for day in days if day >= 1})


def report_date_for(kind: str, due_date: dt.date) -> dt.date:
    return due_date if kind == DAILY else due_date - dt.timedelta(days=1)


def dues_between(
    *, kind: str, due_time: dt.time, days: list[int], start: dt.datetime, end: dt.datetime
) -> list[Due]:
    """Every deadline with start < at <= end (aware datetimes in the same zone as `start`)."""
    tz = start.tzinfo
    result = []
    day = start.date() - dt.timedelta(days=1)
    while day <= end.date():
        if day.day in _due_days(kind, days, day.year, day.month):
            at = dt.datetime.combine(day, due_time, tzinfo=tz)
            if start < at <= end:
                result.append(Due(at=at, report_date=report_date_for(kind, day)))
        day += dt.timedelta(days=1)
    return result


def next_due(*, kind: str, due_time: dt.time, days: list[int], after: dt.datetime) -> Due | None:
    """The first deadline after `after`, looking at most two months ahead."""
    dues = dues_between(
        kind=kind, due_time=due_time, days=days, start=after, end=after + dt.timedelta(days=62)
    )
    return dues[0] if dues else None


def last_due(*, kind: str, due_time: dt.time, days: list[int], at: dt.datetime) -> Due | None:
    """The latest deadline at or before `at`, looking at most two months back."""
    dues = dues_between(
        kind=kind, due_time=due_time, days=days, start=at - dt.timedelta(days=62), end=at
    )
    return dues[-1] if dues else None
