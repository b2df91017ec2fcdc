"""Background work of the notify app, run by the django_tasks worker.

- `deliver_outbox`: sends pending SMS rows. Rows are claimed before sending (a
  conditional UPDATE pending → sending under a per-run token, after SKIP LOCKED on
  PostgreSQL), so two workers, or a task retried after a crash, never send a row twice.
  A failed send is retried with doubling back-off up to NOTIFY_SMS_MAX_ATTEMPTS, then
  left failed for staff to see and retry.
- `announce_round` and `remind_before_cutoff`: the round_opened and cutoff_reminder events.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from baogong.notify.models import Message
from baogong.notify.sms import SmsError, get_backend

BATCH = 200
# Sent rows are marked in groups: one commit per group instead of per text. A worker that
# dies mid-group leaves at most this many sent texts to be sent again after STALE_CLAIM.
SENT_FLUSH = 20
# A worker that died mid-send leaves rows "sending"; after this long they are tried again.
STALE_CLAIM = timedelta(minutes=15)


def enqueue_delivery(run_after: datetime | None = None) -> None:
    if run_after is None:
        deliver_outbox.enqueue()
    else:
        deliver_outbox.using(run_after=run_after).enqueue()


@task()
def deliver_outbox() -> dict[str, int]:
    """Send every due SMS; return counts of sent, retried later and failed rows."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    release_stale_claims()
    while rows := claim_batch():
        for key, value in deliver(rows).items():
            counts[key] += value
    return counts


def release_stale_claims() -> int:
    cutoff = timezone.now() - STALE_CLAIM
    return Message.objects.filter(state=Message.State.SENDING, claimed_at__lt=cutoff).update(
        state=Message.State.PENDING, claim=""
    )


def claim_batch(limit: int = BATCH) -> list[Message]:
    """Take up to `limit` due SMS rows for this run; no other run can take them."""
    now = timezone.now()
    token = uuid.uuid4().hex
    due = Message.objects.filter(channel=Message.Channel.SMS, state=Message.State.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    with transaction.atomic():
        ids = list(
            due.order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        # The state condition is what makes the claim exclusive where SKIP LOCKED is not
        # available (SQLite): a row already claimed is no longer pending.
        Message.objects.filter(pk__in=ids, state=Message.State.PENDING).update(
            state=Message.State.SENDING,
            claim=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    return list(Message.objects.filter(claim=token, state=Message.State.SENDING).order_by("pk"))


def deliver(rows: list[Message]) -> dict[str, int]:
    counts = {"sent": 0, "retry": 0, "failed": 0}
    earliest_retry: datetime | None = None
    sent: list[int] = []
    try:
        backend = get_backend()
    except SmsError as exc:
        backend, setup_error = None, str(exc)
    for message in rows:
        try:
            if backend is None:
                raise SmsError(setup_error)
            backend.send(message_id=message.pk, phone=message.phone, text=message.body)
        except SmsError as exc:
            retry_at = _failed(message, str(exc)[:200])
            if retry_at is None:
                counts["failed"] += 1
            else:
                counts["retry"] += 1
                earliest_retry = min(earliest_retry or retry_at, retry_at)
        else:
            sent.append(message.pk)
            counts["sent"] += 1
            if len(sent) == SENT_FLUSH:
                _mark_sent(sent, rows[0].claim)
                sent = []
    _mark_sent(sent, rows[0].claim if rows else "")
    if earliest_retry is not None:
        enqueue_delivery(earliest_retry)
    return counts


def _mark_sent(ids: list[int], claim: str) -> None:
    if ids:
        Message.objects.filter(pk__in=ids, claim=claim).update(
            state=Message.State.SENT, sent_at=timezone.now(), last_error="", claim=""
        )


def _failed(message: Message, error: str) -> datetime | None:
    """Record a failed attempt; return when to try again, or None when it has failed for good."""
    mine = Message.objects.filter(pk=message.pk, claim=message.claim)
    if message.attempts >= settings.NOTIFY_SMS_MAX_ATTEMPTS:
        mine.update(state=Message.State.FAILED, last_error=error, claim="")
        return None
    delay = settings.NOTIFY_SMS_RETRY_SECONDS * 2 ** (message.attempts - 1)
    retry_at = timezone.now() + timedelta(seconds=delay)
    mine.update(state=Message.State.PENDING, last_error=error, next_attempt_at=retry_at, claim="")
    return retry_at


# --- round events --------------------------------------------------------------------------


@task()
def announce_round(round_id: int) -> int:
    """Tell the households of an opened round's compounds; schedule the cut-off reminder."""
    from baogong.notify.events import announce_round_opened

    return announce_round_opened(round_id)


@task()
def remind_before_cutoff(round_id: int) -> int:
    """Remind households of an open round that have not ordered yet."""
    from baogong.notify.events import remind_cutoff

    return remind_cutoff(round_id)
