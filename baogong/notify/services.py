"""Queue notifications in the outbox. Channels beyond in-app read from the same table."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from baogong.notify.models import Message


def notify(
    *,
    user_ids: Iterable[int],
    kind: str,
    subject: str,
    body: str = "",
    link: str = "",
    dedupe_key: str,
    channel: str = Message.Channel.IN_APP,
) -> int:
    """Write one message per user; the same (user, channel, dedupe_key) is written once.

    Runs inside the caller's transaction, so a rolled-back change tells nobody.
    Returns how many users were addressed.
    """
    ids = sorted(set(user_ids))
    with transaction.atomic():
        Message.objects.bulk_create(
            [
                Message(
                    recipient_id=uid,
                    channel=channel,
                    kind=kind,
                    subject=subject[:200],
                    body=body,
                    link=link,
                    dedupe_key=dedupe_key[:120],
                )
                for uid in ids
            ],
            ignore_conflicts=True,
        )
    return len(ids)
