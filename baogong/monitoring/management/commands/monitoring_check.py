"""Check reporting deadlines now: reminders before, missed-report alerts after (for cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from baogong.monitoring import services, tasks


class Command(BaseCommand):
    help = (
        "Send reminders for stock reports due soon and open alerts for missed deadlines. "
        "Run it from cron every few minutes, or once with --start to let the task worker "
        "repeat it by itself."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--start",
            action="store_true",
            help="Also enqueue the self-repeating check on the task worker (db_worker).",
        )

    def handle(self, *args, start: bool = False, **options) -> None:
        counts = services.deadlines_check()
        self.stdout.write(f"reminded={counts['reminded']} missed={counts['missed']}")
        if start:
            self.stdout.write(f"next check queued: {tasks.schedule_next()}")
