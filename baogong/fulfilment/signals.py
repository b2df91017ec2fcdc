"""Receivers of `orders.signals.round_transitioned`: queue fulfilment's work for a round.

Each receiver only enqueues a task (quick, never raises into the sender).
"""

from __future__ import annotations

import logging

from baogong.orders.models import Round

logger = logging.getLogger(__name__)


def on_round_transitioned(sender, *, round_id: int, action: str, by_id: int | None, **kwargs):
    from baogong.fulfilment import tasks

    try:
        if action == "open":
            cutoff_at = (
                Round.objects.filter(pk=round_id).values_list("cutoff_at", flat=True).first()
            )
            if cutoff_at is not None:
                tasks.round_cutoff_task.using(run_after=cutoff_at).enqueue(round_id)
        elif action == "close":
            tasks.round_consolidate_task.enqueue(round_id)
        elif action == "confirm":
            tasks.round_confirmed_task.enqueue(round_id)
    except Exception:
        # A failed enqueue must not break the transition; the sweep still closes the round.
        logger.exception("could not queue fulfilment work for round %s (%s)", round_id, action)
