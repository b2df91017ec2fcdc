"""manage.py load_demo: load the Fancheng demo district and print its logins."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from baogong.accounts.models import Role
from baogong.core.errors import DomainError
from baogong.demo.fancheng import SUPERUSER
from baogong.demo.ordering import summary_lines
from baogong.demo.services import DemoResult, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo district (樊城区, seven street offices, ~3,000 households, "
        "suppliers, one login per role). Safe to run again: it changes nothing then."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            result = demo_load(by=None)
        except DomainError as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded demo district {result.district.name} in {seconds:.1f} s: "
                    + ", ".join(f"{count:,} {what}" for what, count in result.counts.items())
                )
            )
        elif result.restored:
            self.stdout.write(
                f"Demo district {result.district.name} is already loaded; "
                f"restored what was missing: {', '.join(result.restored)}."
            )
        else:
            self.stdout.write(
                f"Demo district {result.district.name} is already loaded; nothing to do."
            )
        self.stdout.write("")
        self.stdout.write(_login_table(result))
        self.stdout.write(f"\nPassword for every demo login: {result.password}")
        self.stdout.write("")
        self.stdout.write("\n".join(summary_lines(result.ordering)))


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _login_table(result: DemoResult) -> str:
    with translation.override("en"):
        english = {role.value: str(role.label) for role in Role} | {SUPERUSER: "superuser"}
    header = ("角色", "role", "phone", "name", "scope")
    rows = [header] + [
        (login.label_zh, english[login.role], login.phone, login.name, login.scope)
        for login in result.logins
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
