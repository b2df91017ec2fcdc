"""Read a payment statement exported from a payment app (CSV or Excel), row by row.

Plain module (no ORM). WeChat Pay and Alipay exports start with a few lines of
preamble before the heading row; the heading is found by its column names. A
row that cannot be read is reported with its row number and the reason, in the
user's language; the other rows are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

# Reading cells and files is the register importer's job already; share it.
from baogong.areas.importer.reading import (
    _csv_rows,
    _looks_like_workbook,
    _spreadsheet_rows,
    cell_text,
)
from baogong.core.errors import InvalidInput

HEADER_SEARCH_ROWS = 30
MAX_ROWS = 20_000
MAX_AMOUNT = Decimal("99999999.99")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Column → headings seen in payment apps' exports (compared without spaces and brackets).
HEADINGS = {
    "time": ("交易时间", "时间", "付款时间", "支付时间", "入账时间", "日期", "time", "date"),
    "amount": ("金额", "金额元", "收入", "收入金额", "交易金额", "收款金额", "amount"),
    "payer": ("交易对方", "付款人", "付款方", "对方", "付款人姓名", "对方户名", "payer", "name"),
    "remark": ("备注", "附言", "说明", "商品", "留言", "remark", "memo", "note"),
    "reference": (
        "交易单号", "流水号", "订单号", "交易号", "商户单号", "交易流水号",
        "reference", "transactionid",
    ),
    "direction": ("收支", "收/支", "收支类型", "direction"),
}  # fmt: skip
OUTGOING = {"支出", "out", "expense"}
_KEY = re.compile(r"[\s()（）:：_\-]")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)


class StatementFileError(InvalidInput):
    code = "statement_file"


@dataclass(frozen=True)
class StatementRow:
    row_number: int
    paid_at: dt.datetime
    amount: Decimal
    payer: str
    remark: str
    reference: str
    fingerprint: str


@dataclass
class ParsedStatement:
    rows: list[StatementRow]
    rejected: list[tuple[int, str]]


def _heading_key(text: str) -> str:
    return _KEY.sub("", text).lower()


_FIELD_FOR_KEY = {_heading_key(h): name for name, hs in HEADINGS.items() for h in hs}


def _map_heading(cells: list[Any]) -> dict[str, list[int]] | None:
    """Column indexes of each field; remarks may come from several columns (WeChat puts a
    transfer's note under 商品 and leaves 备注 as "/")."""
    found: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        name = _FIELD_FOR_KEY.get(_heading_key(cell_text(cell)))
        if name and (name == "remark" or name not in found):
            found.setdefault(name, []).append(index)
    return found if {"time", "amount"} <= set(found) else None


def _cells(cells: list[Any], indexes: list[int]) -> list[Any]:
    return [cells[i] for i in indexes if i < len(cells)]


def read_statement(data: bytes) -> ParsedStatement:
    """Parse a statement file; raise StatementFileError when it has no usable heading row."""
    if not data.strip():
        raise StatementFileError(_("The file is empty."))
    sheets = _spreadsheet_rows(data) if _looks_like_workbook(data) else [("", _csv_rows(data))]
    for _name, rows in sheets:
        parsed = _read_rows(rows)
        if parsed is not None:
            return parsed
    raise StatementFileError(
        _("No heading row was found. A statement needs at least a time column (交易时间) and "
          "an amount column (金额); payer (交易对方), remark (备注) and transaction id "
          "(交易单号) are read when present.")
    )  # fmt: skip


def _read_rows(rows: Iterator[list[Any]]) -> ParsedStatement | None:
    columns = None
    for number, cells in enumerate(rows, start=1):
        if columns is None:
            if number > HEADER_SEARCH_ROWS:
                return None
            columns = _map_heading(list(cells))
            parsed = ParsedStatement(rows=[], rejected=[])
            seen: Counter[str] = Counter()
            continue
        raw = {name: _cells(cells, indexes) for name, indexes in columns.items()}
        values = {
            name: " ".join(t for t in map(cell_text, found) if t and t != "/")
            for name, found in raw.items()
        }
        if not any(values.values()):
            continue
        if len(parsed.rows) + len(parsed.rejected) >= MAX_ROWS:
            raise StatementFileError(
                _("The file has more than %(max)s rows; export a shorter period."), max=MAX_ROWS
            )
        try:
            raw_time = raw["time"][0] if raw["time"] else None
            parsed.rows.append(_parse_row(number, values, raw_time, seen))
        except ValueError as problem:
            parsed.rejected.append((number, str(problem)))
    return parsed if columns is not None else None


def _parse_row(number: int, values: dict[str, str], raw_time: Any, seen: Counter) -> StatementRow:
    if values.get("direction", "").strip().lower() in OUTGOING:
        raise ValueError(_("an outgoing payment, not money received"))
    paid_at = _parse_time(raw_time, values["time"])
    amount = _parse_amount(values["amount"])
    payer = values.get("payer", "")[:100]
    remark = values.get("remark", "")[:200]
    reference = values.get("reference", "").strip().lstrip("'`")[:64]
    if reference:
        fingerprint = "ref:" + reference
    else:
        # Two identical rows in one file are two payments: count them apart.
        key = f"{paid_at.isoformat()}|{amount}|{payer}|{remark}"
        seen[key] += 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:56]
        fingerprint = "row:" + digest
    return StatementRow(number, paid_at, amount, payer, remark, reference, fingerprint)


def _parse_time(raw: Any, text: str) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        value = None
        for fmt in _TIME_FORMATS:
            try:
                value = dt.datetime.strptime(text.strip(), fmt)
                break
            except ValueError:
                continue
        if value is None:
            if not text:
                raise ValueError(_("the time is missing"))
            raise ValueError(_("“%(text)s” is not a time like 2022-04-05 14:30") % {"text": text})
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _parse_amount(text: str) -> Decimal:
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    cleaned = cleaned.lstrip("+")
    if not cleaned:
        raise ValueError(_("the amount is missing"))
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("“%(text)s” is not an amount") % {"text": text}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(_("the amount must be more than zero"))
    if amount > MAX_AMOUNT:
        raise ValueError(_("the amount is too large"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("the amount has more than two decimal places"))
    return amount.quantize(Decimal("0.01"))
