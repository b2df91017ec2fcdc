"""The supplier order sheet as Excel: one row per household bag, then the totals.

Plain module (openpyxl, no ORM). Written in write-only mode, which streams rows to the
file instead of keeping every cell in memory (20,000 rows stay a few MB).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from baogong.fulfilment.pdf.common import Progress
from baogong.fulfilment.pdf.sheets import payment_text
from baogong.fulfilment.rows import Bag, RoundHeader

MONEY_FORMAT = '"¥"#,##0.00'
PROGRESS_EVERY = 1000
# A text cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@")


def order_sheet_xlsx(
    out: BinaryIO,
    bags: Iterable[Bag],
    *,
    header: RoundHeader,
    offers: Sequence[tuple[int, str]],
    progress: Progress | None = None,
) -> int:
    """Write the sheet; `offers` are (offer position key, "A. name") columns. Return rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Order sheet"))
    sheet.freeze_panes = "A3"
    bold = Font(bold=True)

    def cell(value: Any, *, font: Font | None = None, money: bool = False) -> WriteOnlyCell:
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            value = "'" + value
        c = WriteOnlyCell(sheet, value=value)
        if font:
            c.font = font
        if money:
            c.number_format = MONEY_FORMAT
        return c

    def text(value: str) -> str:
        return "'" + value if value.startswith(_FORMULA_START) else value

    sheet.append([cell(f"{header.supplier} {header.title}", font=bold)])
    headings = [
        _("Compound"), _("Building"), _("Entrance"), _("Room"), _("Phone"), _("Pickup code"),
        *(label for _code, label in offers), _("Items"), _("Amount"), _("Payment"),
    ]  # fmt: skip
    sheet.append([cell(str(h), font=bold) for h in headings])
    codes = [code for code, _label in offers]
    totals = dict.fromkeys(codes, 0)
    amount, count = Decimal("0.00"), 0
    for count, bag in enumerate(bags, start=1):
        units = {item.code: item.quantity for item in bag.items}
        for code, quantity in units.items():
            totals[code] = totals.get(code, 0) + quantity
        amount += bag.amount
        # Plain values where no style is needed: a styled cell object costs ten times more.
        sheet.append(
            [
                text(bag.compound),
                text(bag.building),
                text(bag.unit),
                text(bag.room),
                bag.phone,
                bag.pickup_code,
                *(units.get(code) for code in codes),
                text(bag.items_text()),
                cell(bag.amount, money=True),
                payment_text(bag.payment),
            ]
        )
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    sheet.append(
        [
            cell(_("Total: %(count)s bags") % {"count": count}, font=bold),
            *(cell(None) for _i in range(5)),
            *(cell(totals[code], font=bold) for code in codes),
            cell(None),
            cell(amount, font=bold, money=True),
        ]
    )
    workbook.save(out)
    return count
