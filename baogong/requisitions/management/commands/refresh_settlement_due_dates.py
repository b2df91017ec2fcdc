"""Recompute provisional settlement due dates once `chinesecalendar` covers the new year.

Run after upgrading the package (the State Council publishes each year's holidays
in November or December); settlements whose due date was counted with weekends
only then get the real one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from baogong.requisitions.ledger import settlement_refresh_due_dates


class Command(BaseCommand):
    help = "Recompute provisional settlement due dates with the installed holiday calendar."

    def handle(self, *args, **options) -> None:
        changed = settlement_refresh_due_dates()
        self.stdout.write(f"{changed} settlement due date(s) changed.")
