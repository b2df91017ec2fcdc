"""Orders from an uploaded spreadsheet: read the rows into chain lines, then the same
preview and commit as a pasted chain (see `intake`).

The sheet is read with python-calamine; headings are found in the first rows, in the
forms people write them (楼栋/单元/房号 or one 地址 column, one column per package).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from baogong.accounts.scoping import PROXY_ROLES, scope_for
from baogong.areas.addresses import (
    Address,
    AddressError,
    building_key,
    find_address,
    normalize_text,
    parse_address,
    room_key,
    unit_key,
)
from baogong.areas.models import Household
from baogong.core.errors import InvalidInput
from baogong.core.phones import PhoneError, normalize_phone
from baogong.orders import chain
from baogong.orders.intake import (
    BAD_ADDRESS,
    NOTE_MAX,
    Preview,
    chain_parser,
    intake_preview,
    round_area_filter,
    round_offers,
)
from baogong.orders.models import Offer, Round

if TYPE_CHECKING:
    from baogong.accounts.models import User

SHEET_MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10


class SheetError(InvalidInput):
    """The uploaded file as a whole cannot be read (not a spreadsheet, empty, no headings...)."""

    code = "order_sheet_invalid"


# Headings people write, per field (matching ignores spaces, case, full-width forms and
# bracketed hints such as "联系电话（选填）").
SHEET_HEADINGS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "楼", "栋", "幢", "building"),
    "unit": ("单元", "单元号", "unit", "entrance"),
    "room": ("房号", "房间号", "门牌号", "室", "户号", "room"),
    "address": ("地址", "住址", "门牌", "详细地址", "家庭住址", "address"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "phone", "mobile"),
    "name": ("姓名", "户主", "联系人", "name"),
    "note": ("备注", "说明", "note", "notes", "remarks"),
}
TEMPLATE_HEADINGS = ("楼栋", "单元", "房号", "联系电话")
_HINT = re.compile(r"[（(【\[].*?[）)】\]]|[*＊:：]")
_HEADING_FIELDS = {
    re.sub(r"\s+", "", alias).lower(): name
    for name, aliases in SHEET_HEADINGS.items()
    for alias in aliases
}


@dataclass
class _SheetLayout:
    header_row: int
    fields: dict[str, int]  # field → column
    offers: dict[int, str]  # column → option code
    ignored: list[str]  # headings that name nothing known


def _heading_key(text: str) -> str:
    return re.sub(r"\s+", "", _HINT.sub("", normalize_text(text))).lower()


def cell_text(value: Any) -> str:
    """A cell as text; spreadsheets hand numbers back as floats (502.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def check_sheet_size(size: int) -> None:
    """Refuse a file bigger than IMPORT_MAX_BYTES (before reading it, when the size is known)."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise SheetError(
            _("The file is %(size)s; files up to %(limit)s can be uploaded."),
            size=filesizeformat(size),
            limit=filesizeformat(limit),
        )


def sheet_lines(
    round_: Round, data: bytes, *, offers: list[Offer] | None = None
) -> tuple[list[chain.ChainLine], list[str], int]:
    """Read an order sheet: its lines (row numbers as Excel shows them), remarks about the
    file, and how many rows had an address but no quantity. Raise SheetError for a file
    that cannot be read as a whole."""
    check_sheet_size(len(data))
    if not data.strip():
        raise SheetError(_("The file is empty."))
    if not (data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise SheetError(_("This is not a spreadsheet. Upload an Excel file (.xlsx)."))
    offers = offers if offers is not None else round_offers(round_)
    parser = chain_parser(offers)
    header_without_offers = 0
    for rows in _worksheets(data):
        layout, rows = _find_layout(rows, parser)
        if layout is None:
            continue
        if not layout.offers:
            header_without_offers = header_without_offers or layout.header_row
            continue
        lines, skipped = _read_rows(rows, layout, parser.codes)
        if not lines and not skipped:
            raise SheetError(
                _("The sheet has a heading row (row %(row)s) but no orders under it."),
                row=layout.header_row,
            )
        notes = []
        if layout.ignored:
            notes.append(
                _("These columns were not read: %(columns)s.")
                % {"columns": ", ".join(layout.ignored)}
            )
        return lines, notes, skipped
    if header_without_offers:
        raise SheetError(
            _(
                "The heading row (row %(row)s) names no package of this round. Add one column "
                "per package, headed with its option letter or name: %(offers)s."
            ),
            row=header_without_offers,
            offers=", ".join(f"{o.code} {o.name}" for o in offers),
        )
    raise SheetError(
        _(
            "No heading row was found in the first %(count)s rows. The sheet needs the columns "
            "楼栋, 单元 and 房号 (or one 地址 column) and one column per package (its option "
            "letter or name); 联系电话 and 备注 are optional. Download the template to see "
            "the layout."
        ),
        count=HEADER_SEARCH_ROWS,
    )


def _worksheets(data: bytes) -> Iterator[Iterator[list[Any]]]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    except Exception:  # calamine raises several kinds for a damaged file
        raise SheetError(
            _("The file could not be read as a spreadsheet. Save it again as .xlsx and retry.")
        ) from None
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception:  # noqa: S112 - a damaged extra sheet must not hide a good one
            continue
        # iter_rows starts at the sheet's first row even when it is empty, so the
        # position is the row number Excel shows, less one.
        yield iter(sheet.iter_rows())


def _find_layout(
    rows: Iterator[list[Any]], parser: chain.ChainParser
) -> tuple[_SheetLayout | None, Iterator[tuple[int, list[Any]]]]:
    numbered = enumerate(rows, start=1)
    for number, cells in numbered:
        layout = _read_heading(number, [cell_text(c) for c in cells], parser)
        if layout is not None:
            return layout, numbered
        if number >= HEADER_SEARCH_ROWS:
            break
    return None, numbered


def _read_heading(number: int, cells: list[str], parser: chain.ChainParser) -> _SheetLayout | None:
    fields: dict[str, int] = {}
    offers: dict[int, str] = {}
    ignored: list[str] = []
    for column, cell in enumerate(cells):
        key = _heading_key(cell)
        if not key:
            continue
        name = _HEADING_FIELDS.get(key)
        if name is None and len(key) >= 2:
            name = next(
                (
                    f
                    for alias, f in _HEADING_FIELDS.items()
                    if len(alias) >= 2 and key.endswith(alias)
                ),
                None,
            )
        if name is not None:
            fields.setdefault(name, column)
            continue
        codes, _unknown = parser.references(cell)
        if len(codes) == 1 and codes[0] not in offers.values():
            offers[column] = codes[0]
        else:
            ignored.append(cell)
    if "address" not in fields and not {"building", "room"} <= fields.keys():
        return None
    return _SheetLayout(number, fields, offers, ignored)


def _read_rows(
    rows: Iterator[tuple[int, list[Any]]], layout: _SheetLayout, codes: list[str]
) -> tuple[list[chain.ChainLine], int]:
    lines: list[chain.ChainLine] = []
    skipped = 0
    for number, cells in rows:
        if number - layout.header_row > SHEET_MAX_ROWS:
            raise SheetError(
                _("The sheet has more than %(max)s rows; split it into several files."),
                max=SHEET_MAX_ROWS,
            )
        values = [cell_text(c) for c in cells]
        line = _sheet_line(number, values, layout)
        if line is None:
            continue
        if not line.items and not line.problems:
            skipped += 1  # an address with nothing ordered, as in the pre-filled template
            continue
        lines.append(line)
    return lines, skipped


def _cell(values: list[str], column: int | None) -> str:
    return values[column] if column is not None and column < len(values) else ""


def _sheet_line(number: int, values: list[str], layout: _SheetLayout) -> chain.ChainLine | None:
    get = layout.fields.get
    text = " ".join(v for v in values if v)
    if not text:
        return None
    line = chain.ChainLine(line=number, text=text)
    building, unit, room = (_cell(values, get(f)) for f in ("building", "unit", "room"))
    written = _cell(values, get("address"))
    try:
        if building or room:
            entrance = f"{unit}单元" if unit.isdigit() else unit
            written = " ".join(p for p in (building, entrance, room) if p)
            line.address = Address(building_key(building), unit_key(unit), room_key(room))
            if not line.address.building or not building:
                raise AddressError(written)
        elif written:
            found = find_address(written)
            line.address = parse_address(written) if found is None else found[0]
    except AddressError:
        line.address = None
        line.problems.append(chain.Problem(BAD_ADDRESS, written))
    line.address_text = written
    phone = _cell(values, get("phone"))
    if phone:
        # The phone only tells households apart; a bad one is no reason to refuse the row.
        with contextlib.suppress(PhoneError):
            line.phone = normalize_phone(phone)
    line.name = _cell(values, get("name"))
    line.note = _cell(values, get("note"))[:NOTE_MAX]
    for column, code in layout.offers.items():
        raw = _cell(values, column)
        if not raw or raw in ("0", "-", "/"):
            continue
        quantity = chain.parse_quantity(raw)
        if quantity is None or not 0 < quantity <= chain.MAX_QUANTITY:
            line.problems.append(chain.Problem(chain.BAD_QUANTITY, raw))
            continue
        line.items.append(chain.Item(code, quantity, raw))
    told = any(p.code == BAD_ADDRESS for p in line.problems)
    if (line.items or line.problems) and line.address is None and not line.phone and not told:
        line.problems.insert(0, chain.Problem(chain.NO_ADDRESS))
    if line.address is None and not line.phone and not line.items and not line.problems:
        return None
    return line


def sheet_preview(round_: Round, data: bytes, *, by: User | None) -> Preview:
    offers = round_offers(round_)
    lines, notes, skipped = sheet_lines(round_, data, offers=offers)
    preview = intake_preview(round_, lines, by=by, kind="sheet", offers=offers)
    preview.notes, preview.skipped = notes, skipped
    preview.digest = hashlib.sha256(data).hexdigest()
    return preview


def order_template(round_: Round, *, by: User | None) -> bytes:
    """An order sheet for the round: one row per household the user may order for, one
    quantity column per offer, and a second sheet saying how to fill it in."""
    from openpyxl import Workbook

    offers = round_offers(round_)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("订单")
    sheet.append([*TEMPLATE_HEADINGS, *(f"{o.code} {o.name}" for o in offers), "备注"])
    households = Household.objects.filter(round_area_filter(round_, "building__"))
    if by is not None and not scope_for(by).superuser:
        households = households.filter(pk__in=scope_for(by).households(PROXY_ROLES).values("pk"))
    for building, unit, room in (
        households.order_by("compound__name", "building__name", "unit", "room")
        .values_list("building__name", "unit", "room")
        .iterator(chunk_size=5000)
    ):
        sheet.append([building, unit, room])
    help_sheet = workbook.create_sheet(_("How to fill in"))
    help_sheet.append([str(round_.title)])
    for text in (
        _(
            "Write how many of each package a household wants in its column; leave it empty "
            "for none."
        ),
        _(
            "Rows without any quantity are skipped. Each household once: if it appears "
            "twice, the lower row is kept."
        ),
        _("Instead of 楼栋, 单元 and 房号 you may use one 地址 column (3号楼2单元502)."),
        _("The phone number is optional; it tells apart households with the same address."),
    ):
        help_sheet.append([text])
    help_sheet.append([])
    help_sheet.append([_("Option"), _("Package"), _("Price"), _("Limit per household")])
    for offer in offers:
        help_sheet.append([offer.code, offer.name, float(offer.price), offer.per_household_limit])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
