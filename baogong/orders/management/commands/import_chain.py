"""Import a group-chat order chain from a text file into a round.

    manage.py import_chain ROUND_ID FILE [--dry-run] [--json] [--as PHONE]

FILE is a UTF-8 (or GB18030) text file, or "-" for standard input. Without
--dry-run the kept lines are placed through order_place with channel=chain, as
the staff user --as names (required: orders are entered by someone who may enter
them). --json prints every line with its parse result, its status and, for a
rejected line, the reason; after a commit also what happened to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from baogong.accounts.models import User
from baogong.core.errors import DomainError, NotAllowed, NotFound
from baogong.core.phones import PhoneError, normalize_phone
from baogong.orders import intake
from baogong.orders.models import Order


class Command(BaseCommand):
    help = "Preview or import a pasted order chain (接龙) into a round."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("round_id", type=int)
        parser.add_argument("file", help='text file of the chain, or "-" for standard input')
        parser.add_argument("--dry-run", action="store_true", help="show the preview, save nothing")
        parser.add_argument("--json", action="store_true", help="print every line as JSON")
        parser.add_argument(
            "--as",
            dest="as_phone",
            metavar="PHONE",
            help="mobile number of the staff user entering the orders (required unless --dry-run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["as_phone"])
        if user is None and not options["dry_run"]:
            raise CommandError("--as PHONE is required unless --dry-run: who is entering these?")
        try:
            round_ = intake.round_for_intake(user, options["round_id"])
            preview = intake.chain_preview(round_, _read(options["file"]), by=user)
        except NotFound:
            raise CommandError(f"No round {options['round_id']}.") from None
        except NotAllowed:
            raise CommandError("This user may not enter orders for this round.") from None
        except DomainError as error:
            raise CommandError(error.message) from None
        report = None
        if not options["dry_run"]:
            report = intake.intake_commit(preview, keep=None, channel=Order.Channel.CHAIN, by=user)
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(preview, report), ensure_ascii=False, indent=1))
        else:
            self._print(preview, report)

    @staticmethod
    def _user(phone: str | None) -> User | None:
        if not phone:
            return None
        try:
            return User.objects.get(phone=normalize_phone(phone), is_active=True)
        except (PhoneError, User.DoesNotExist):
            raise CommandError(f"No active user with the mobile number {phone}.") from None

    def _print(self, preview: intake.Preview, report: intake.CommitReport | None) -> None:
        outcomes = {id(r.row): r for r in report.results} if report else {}
        for row in preview.rows:
            if row.status == intake.RowStatus.IGNORED:
                continue
            items = " ".join(f"{offer.code}×{qty}" for offer, qty in row.items)
            household = row.household.label if row.household else "-"
            result = outcomes.get(id(row))
            done = ""
            if result is not None:
                done = f" → {result.outcome}" + (f": {result.message}" if result.message else "")
            self.stdout.write(
                f"{row.number:>5} {row.status:<9} {household:<24} {items:<12} {row.reason}{done}"
            )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(preview.counts.items()))
        self.stdout.write(f"Preview: {counts}.")
        if report is not None:
            done = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
            self.stdout.write(self.style.SUCCESS(f"Saved: {done}."))
        else:
            self.stdout.write("Dry run: nothing saved.")


def _read(name: str) -> str:
    data = sys.stdin.buffer.read() if name == "-" else _read_file(name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")  # a chain saved by Chinese Windows Notepad
        except UnicodeDecodeError:
            raise CommandError(f"{name} is not a text file.") from None


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {name}: {error.strerror}.") from None


def _as_json(preview: intake.Preview, report: intake.CommitReport | None) -> dict[str, Any]:
    results = {id(r.row): r for r in report.results} if report else {}
    lines = []
    for row in preview.rows:
        entry = row.as_dict()
        result = results.get(id(row))
        entry["outcome"] = str(result.outcome) if result else None
        entry["message"] = result.message if result else ""
        lines.append(entry)
    return {
        "round": preview.round.pk,
        "digest": preview.digest,
        "dry_run": report is None,
        "counts": dict(preview.counts),
        "saved": dict(report.counts) if report else None,
        "lines": lines,
    }
