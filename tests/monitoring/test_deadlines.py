from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from baogong.monitoring.deadlines import DAILY, PERIODIC, dues_between, last_due, next_due

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def test_periodic_summary_is_due_10th_20th_30th_at_nine_for_the_day_before():
    dues = dues_between(
        kind=PERIODIC,
        due_time=dt.time(9),
        days=[10, 20, 30],
        start=at(2026, 3, 1),
        end=at(2026, 3, 31, 23, 59),
    )
    assert [d.at for d in dues] == [at(2026, 3, 10, 9), at(2026, 3, 20, 9), at(2026, 3, 30, 9)]
    assert dues[0].report_date == dt.date(2026, 3, 9)


def test_thirtieth_means_the_end_of_february():
    due = next_due(kind=PERIODIC, due_time=dt.time(9), days=[10, 20, 30], after=at(2026, 2, 21))
    assert due.at == at(2026, 2, 28, 9)


def test_daily_deadline_covers_the_same_day():
    due = next_due(kind=DAILY, due_time=dt.time(20), days=[], after=at(2026, 3, 20, 10))
    assert due.at == at(2026, 3, 20, 20) and due.report_date == dt.date(2026, 3, 20)
    last = last_due(kind=DAILY, due_time=dt.time(20), days=[], at=at(2026, 3, 20, 10))
    assert last.at == at(2026, 3, 19, 20)
