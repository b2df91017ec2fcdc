"""manage.py import_households FILE --into AREA_ID [--dry-run] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from baogong.areas.importer import Outcome, register_import
from baogong.areas.models import Area
from baogong.core.errors import DomainError


class Command(BaseCommand):
    help = ("Import a household register (.xlsx, .xls, .ods or .csv) into a compound, "
            "community or street. Runs as the system: history rows carry no user.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--into", type=int, required=True, metavar="AREA_ID",
                            help="id of the compound, community or street to import into")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the file and report what would change; write nothing")
        parser.add_argument("--json", action="store_true",
                            help="print every row's outcome as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s")
                               % {"file": path, "error": error.strerror}) from None
        try:
            into = Area.objects.get(pk=options["into"])
        except Area.DoesNotExist:
            raise CommandError(_("There is no area %(id)s.") % {"id": options["into"]}) from None
        try:
            report = register_import(data, filename=path.name, into=into, by=None,
                                     dry_run=options["dry_run"])
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
            return
        counts = report.counts
        if report.dry_run:
            summary = _("Dry run of %(file)s into %(area)s, nothing written: %(created)s to "
                        "create, %(updated)s to update, %(unchanged)s unchanged, %(rejected)s "
                        "rejected (headings on row %(header)s).")
        else:
            summary = _("Imported %(file)s into %(area)s: %(created)s created, %(updated)s "
                        "updated, %(unchanged)s unchanged, %(rejected)s rejected (headings on "
                        "row %(header)s).")
        self.stdout.write(summary % {"file": path.name, "area": into.name,
                                     "header": report.header_row, **counts})
        if report.compounds_created:
            self.stdout.write(_("New compounds: %(names)s")
                              % {"names": ", ".join(report.compounds_created)})
        if report.buildings_created:
            self.stdout.write(_("New buildings: %(count)s")
                              % {"count": len(report.buildings_created)})
        for row in report.rows:
            if row.outcome == Outcome.REJECTED:
                self.stdout.write(_("Row %(row)s (%(address)s): %(reason)s") % {
                    "row": row.row, "address": row.address or "-", "reason": row.reason})
