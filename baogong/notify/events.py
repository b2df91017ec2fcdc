"""The events the notify app sends itself: a round opened, and its cut-off is near."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from baogong.notify.services import CHUNK, send

# A reminder task that wakes up this much too early (cut-off moved later) sleeps again.
_EARLY = timedelta(minutes=5)


def local_time(value: datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def round_household_ids(round_id: int) -> Iterator[list[int]]:
    """Households under the round's compounds/communities, in chunks of ids."""
    from baogong.areas.models import Household
    from baogong.orders.models import RoundArea

    paths = RoundArea.objects.filter(round_id=round_id).values_list("area__path", flat=True)
    under = Q(pk__in=[])
    for path in paths:
        under |= Q(compound__path__startswith=path)
    ids = Household.objects.filter(under).order_by("pk").values_list("pk", flat=True)
    chunk: list[int] = []
    for hid in ids.iterator(chunk_size=CHUNK):
        chunk.append(hid)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def reminder_due(round_: Any) -> datetime:
    return round_.cutoff_at - timedelta(hours=settings.NOTIFY_CUTOFF_REMINDER_HOURS)


def on_round_transitioned(sender: Any, *, round_id: int, action: str, **kwargs: Any) -> None:
    """Receiver of orders.signals.round_transitioned: an opened round is announced."""
    if action != "open":
        return
    from baogong.notify.tasks import announce_round

    announce_round.enqueue(round_id)


def announce_round_opened(round_id: int) -> int:
    from baogong.notify.tasks import remind_before_cutoff
    from baogong.orders.models import Round

    round_ = Round.objects.select_related("supplier").filter(pk=round_id).first()
    if round_ is None or round_.state != Round.State.OPEN:
        return 0
    context = {
        "round_title": round_.title,
        "supplier": round_.supplier.name,
        "cutoff": local_time(round_.cutoff_at),
    }
    link = reverse("orders:round_order", args=[round_.pk])
    written = 0
    # One transaction per chunk: a round of 20,000 households does not hold one huge one,
    # and a rerun after a crash skips what was written (dedupe key).
    for chunk in round_household_ids(round_id):
        with transaction.atomic():
            written += send(
                "round_opened",
                households=chunk,
                context=context,
                dedupe_key=f"round_opened:{round_id}",
                link=link,
            )
    remind_at = reminder_due(round_)
    # Only the run that announced schedules the reminder: a rerun does not queue another.
    if written and remind_at > timezone.now():
        remind_before_cutoff.using(run_after=remind_at).enqueue(round_id)
    return written


def remind_cutoff(round_id: int) -> int:
    from baogong.notify.tasks import remind_before_cutoff
    from baogong.orders.models import Order, Round

    round_ = Round.objects.filter(pk=round_id).first()
    now = timezone.now()
    if round_ is None or round_.state != Round.State.OPEN or round_.cutoff_at <= now:
        return 0
    if reminder_due(round_) > now + _EARLY:
        # The cut-off moved later since this was scheduled: wait for the new time.
        remind_before_cutoff.using(run_after=reminder_due(round_)).enqueue(round_id)
        return 0
    context = {"round_title": round_.title, "cutoff": local_time(round_.cutoff_at)}
    link = reverse("orders:round_order", args=[round_.pk])
    written = 0
    for chunk in round_household_ids(round_id):
        ordered = set(
            Order.objects.filter(
                round_id=round_id, household_id__in=chunk, state=Order.State.PLACED
            ).values_list("household_id", flat=True)
        )
        with transaction.atomic():
            written += send(
                "cutoff_reminder",
                households=[h for h in chunk if h not in ordered],
                context=context,
                dedupe_key=f"cutoff_reminder:{round_id}",
                link=link,
            )
    return written
