"""Drop unpaid orders of every round past its payment deadline (run from cron as a safety net)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from baogong.payments.services import rounds_payments_sweep


class Command(BaseCommand):
    help = "Drop unpaid orders of every round whose payment deadline has passed."

    def handle(self, *args: Any, **options: Any) -> None:
        dropped = rounds_payments_sweep()
        self.stdout.write(f"{dropped} orders dropped for non-payment")
