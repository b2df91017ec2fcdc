"""Demo notifications: the open demo rounds announced, so the inbox, the call list and the
failed-SMS page have something to show right after `load_demo`."""

from __future__ import annotations

from baogong.areas.models import Area
from baogong.notify.events import announce_round_opened
from baogong.notify.models import Message


def demo_notifications(district: Area) -> int:
    """Announce the district's open rounds (idempotent: dedupe keys); return rows written."""
    from baogong.orders.models import Round

    rounds = Round.objects.filter(
        state=Round.State.OPEN, areas__path__startswith=district.path
    ).distinct()
    written = sum(announce_round_opened(pk) for pk in rounds.values_list("pk", flat=True))
    # One text the (console) gateway "refused", so the staff page can be tried out.
    sample = (
        Message.objects.filter(
            channel=Message.Channel.SMS,
            state=Message.State.PENDING,
            household__building__path__startswith=district.path,
        )
        .order_by("pk")
        .first()
    )
    if sample is not None and not Message.objects.filter(state=Message.State.FAILED).exists():
        Message.objects.filter(pk=sample.pk).update(
            state=Message.State.FAILED, attempts=5, last_error="HTTP 503 (demo)"
        )
    return written
