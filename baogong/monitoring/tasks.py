"""The recurring deadline check on the task worker.

`deadline_tick` runs services.deadlines_check and enqueues its own next run
TICK later, so one `monitoring_check --start` (or the demo) keeps it going
while a worker runs. Running it twice by mistake is harmless: the check's
reminders and alerts are keyed per deadline. Without a worker, cron runs
`manage.py monitoring_check` every few minutes instead.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from baogong.monitoring import services

TICK = dt.timedelta(minutes=10)


def schedule_next(after: dt.timedelta = TICK) -> str:
    """Enqueue the next tick; return its task id."""
    return deadline_tick.using(run_after=timezone.now() + after).enqueue().id


@task()
def deadline_tick() -> dict[str, int]:
    counts = services.deadlines_check()
    schedule_next()
    return counts
