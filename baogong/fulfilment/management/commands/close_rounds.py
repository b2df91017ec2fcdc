"""Close every open round past its cut-off (run from cron, e.g. every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from baogong.fulfilment.tasks import round_cutoff_sweep


class Command(BaseCommand):
    help = "Close every open round whose cut-off has passed (safe to run at any time)."

    def handle(self, *args, **options) -> None:
        closed = round_cutoff_sweep()
        self.stdout.write(f"closed {len(closed)} round(s): {closed}")
