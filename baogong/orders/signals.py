"""Signals other apps listen to, so `orders` never imports the apps built on it.

`round_transitioned` is sent after the transaction that moved a round commits
(sender=Round, round_id=…, action="open"/"close"/…, by_id=user pk or None).
Receivers enqueue their own work (deadline tasks, notifications, documents);
they must be quick and must not raise.
"""

from __future__ import annotations

from django.dispatch import Signal

round_transitioned = Signal()
