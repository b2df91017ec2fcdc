"""A distribution's report as Excel, with or without personal data.

Without personal data the workbook says where and how many, never who: coverage per
area, the households not reached counted per compound, building and reason, and the
bag ledger. With personal data the "not received" sheet lists each household (entrance,
room, phone, pickup code) so staff can follow up; phones are full only where
`full_phone(household)` allows, masked otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from baogong.areas.models import Household
from baogong.distributions.models import Distribution
from baogong.distributions.reports import Coverage, LedgerRow, Unreached, not_received_counts

# A text cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _sheet(book: Workbook, title: str, heading: str, header: Sequence[str], rows) -> None:
    sheet = book.create_sheet(title=title)
    sheet.append([heading])
    sheet.append([str(h) for h in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe(v) for v in row])
    sheet.freeze_panes = "A3"


def report_workbook(
    distribution: Distribution,
    coverage: Coverage,
    unreached: list[Unreached],
    ledger: list[LedgerRow],
    *,
    personal: bool,
    full_phone: Callable[[Household], bool],
    now: dt.datetime | None = None,
) -> bytes:
    """Return the .xlsx bytes: coverage, households not reached, bag ledger."""
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y-%m-%d %H:%M")
    heading = _("%(title)s · %(area)s, as of %(when)s") % {
        "title": distribution.title,
        "area": coverage.top.name,
        "when": stamp,
    }
    book = Workbook()
    book.remove(book.active)
    days = [day.strftime("%m-%d") for day in coverage.days]
    _sheet(
        book,
        _("Coverage"),
        heading,
        [_("Area"), _("Households targeted"), _("Households reached"), _("Share reached"), *days],
        [
            (row.area.name, row.targeted, row.reached, row.percent, *row.cells)
            for row in [*coverage.rows, coverage.total]
        ],
    )
    if personal:
        _sheet(
            book,
            _("Not received"),
            heading,
            [
                _("Compound"), _("Building"), _("Entrance"), _("Room"), _("Phone"),
                _("Pickup code"), _("Packs"), _("Door delivery"), _("Reason"), _("Follow-up"),
            ],
            [
                (
                    r.household.compound.name,
                    r.household.building.name,
                    r.household.unit,
                    r.household.room,
                    r.household.phone if full_phone(r.household) else r.household.masked_phone,
                    r.pickup_code,
                    r.packs,
                    _("yes") if r.door_delivery else "",
                    r.reason,
                    r.follow_up,
                )
                for r in unreached
            ],
        )  # fmt: skip
    else:
        _sheet(
            book,
            _("Not received"),
            heading,
            [_("Compound"), _("Building"), _("Reason"), _("Households")],
            not_received_counts(unreached),
        )
    _sheet(
        book,
        _("Bag ledger"),
        heading,
        [
            _("Compound"), _("Received at the gate (packs)"), _("of which free"),
            _("Distributed"), _("On hand"),
        ],
        [(r.compound.name, r.received, r.received_free, r.distributed, r.on_hand) for r in ledger],
    )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
