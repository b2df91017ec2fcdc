"""Stock reports in Excel: the upload template, reading an upload, and the dashboard export.

Reading is row by row: a row that cannot be read becomes its reason (with the
row number the user sees in Excel); the others go on to services.reports_import.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from baogong.core.errors import InvalidInput
from baogong.monitoring.checks import Figures

# Column keys in the template's order, with the headings people may write for each.
COLUMNS: dict[str, tuple[str, ...]] = {
    "outlet": ("网点", "门店", "outlet"),
    "date": ("日期", "date"),
    "commodity": ("商品", "品种", "commodity"),
    "opening": ("期初库存", "opening stock", "opening"),
    "received": ("进货", "购进", "purchases in", "in"),
    "sold": ("销售", "sales out", "out"),
    "closing": ("期末库存", "closing stock", "closing"),
    "price": ("零售价", "价格", "retail price", "price"),
}
MAX_ROWS = 20_000
_FORMULA_START = ("=", "+", "-", "@")


def _headings() -> list[str]:
    return [
        _("Outlet"), _("Date"), _("Commodity"), _("Opening stock"), _("Purchases in"),
        _("Sales out"), _("Closing stock"), _("Retail price"),
    ]  # fmt: skip


def template_workbook(
    outlet_names: Sequence[str], commodity_names: Sequence[str], date: dt.date
) -> bytes:
    """A sheet with the headings and one empty row per outlet and commodity for `date`."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Stock report")
    sheet.append(_headings())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for outlet in outlet_names:
        for commodity in commodity_names:
            sheet.append([outlet, date, commodity])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _key(text: Any) -> str:
    return "".join(str(text or "").split()).casefold()


_LOOKUP = {_key(word): key for key, words in COLUMNS.items() for word in words}


def _decimal(value: Any) -> Decimal:
    if value is None or str(value).strip() == "":
        raise ValueError
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number.quantize(Decimal("0.01"))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip().replace("/", "-").replace(".", "-")
    return dt.date.fromisoformat(text)


def read_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (Excel row number, parsed row or the reason it was refused)."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput(_("This file is not an Excel workbook (.xlsx).")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    columns = {_LOOKUP[_key(h)]: i for i, h in enumerate(header) if _key(h) in _LOOKUP}
    missing = [key for key in COLUMNS if key not in columns]
    if missing:
        names = ", ".join(COLUMNS[key][0] for key in missing)
        raise InvalidInput(
            _("The first row must name the columns; missing: %(names)s."), names=names
        )
    labels = dict(zip(COLUMNS, _headings(), strict=True))
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            yield (
                number,
                _("Too many rows; upload at most %(count)s at a time.") % {"count": MAX_ROWS},
            )
            break
        cells = {key: row[i] if i < len(row) else None for key, i in columns.items()}
        if all(value is None or str(value).strip() == "" for value in cells.values()):
            continue
        try:
            date = _date(cells["date"])
        except (TypeError, ValueError):
            yield number, _("The date is not a date.")
            continue
        numbers, bad = {}, []
        for key in ("opening", "received", "sold", "closing", "price"):
            try:
                numbers[key] = _decimal(cells[key])
            except ValueError:
                bad.append(str(labels[key]))
        if bad:
            yield number, _("Not a number: %(columns)s.") % {"columns": ", ".join(bad)}
            continue
        yield (
            number,
            {
                "outlet": cells["outlet"] or "",
                "commodity": cells["commodity"] or "",
                "date": date,
                "figures": Figures(**numbers),
            },
        )


def table_workbook(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """A workbook of plain tables: (sheet title, headings, rows) each; text is made inert."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headings, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        header = []
        for heading in headings:
            cell = WriteOnlyCell(sheet, value=str(heading))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append(
                ["'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v for v in row]
            )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
