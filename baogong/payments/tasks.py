"""Payment deadline work on the task worker, enqueued when a round moves (see apps.py).

- `round_payments_close_task` is enqueued with `run_after=payment_deadline` when a round
  closes (and again when it is confirmed); if the deadline moved later meanwhile it
  enqueues itself again for the new time. Running it twice drops nothing more.
- `manage.py payments_close_due` (cron) closes every round past its deadline, so a lost
  task cannot leave unpaid orders on the truck.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from baogong.orders.models import Round
from baogong.payments import services

logger = logging.getLogger(__name__)


@task()
def round_payments_close_task(round_id: int) -> int:
    """Drop the round's unpaid orders at its payment deadline; return how many."""
    deadline = (
        Round.objects.filter(pk=round_id, payments_closed_at__isnull=True)
        .values_list("payment_deadline", flat=True)
        .first()
    )
    if deadline is not None and deadline > timezone.now():
        # The deadline was moved later after this task was queued: wait for the new one.
        round_payments_close_task.using(run_after=deadline).enqueue(round_id)
        return 0
    return services.round_payments_close(round_id=round_id)


@task()
def round_payment_due_task(round_id: int) -> int:
    return services.round_payment_due_send(round_id=round_id)


def on_round_transitioned(sender: Any, *, round_id: int, action: str, **kwargs: Any) -> None:
    """When a round closes or is confirmed: tell households what they owe, and enqueue the
    deadline drop for the deadline (run_after). Must not raise (signal receivers)."""
    if action not in ("close", "confirm"):
        return
    try:
        deadline = Round.objects.filter(pk=round_id).values_list("payment_deadline", flat=True)
        deadline = deadline.first()
        round_payment_due_task.enqueue(round_id)
        if deadline is not None:
            when = max(deadline, timezone.now())
            round_payments_close_task.using(run_after=when).enqueue(round_id)
    except Exception:
        logger.exception("could not enqueue payment tasks for round %s", round_id)
