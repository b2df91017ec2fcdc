"""Read a household register file: find its headings, then check every row.

No database here (the ORM is not imported), so this part is quick to test and
can be reused by other imports:

1. `read_register` turns the file's bytes into a `RegisterSheet`: the heading row
   found within the first rows, the columns it names, and the raw data rows.
   Whole-file problems raise `RegisterFileError`.
2. `parse_rows` turns raw rows into `ParsedRow`s or rejected `RowOutcome`s
   (address, phone, members, containment, duplicates within the file).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baogong.areas.addresses import (
    Address,
    AddressError,
    building_key,
    building_name,
    chinese_to_int,
    find_address,
    normalize_text,
    parse_address,
    room_key,
    unit_key,
)
from baogong.core.errors import InvalidInput
from baogong.core.phones import PhoneError, normalize_phone

HEADER_SEARCH_ROWS = 10
# Column sizes of Area.name, Resident.name and Household.notes (a test keeps them equal):
# this module stays free of the ORM.
AREA_NAME_MAX = 100
NAME_MAX = 50
NOTES_MAX = 500
MEMBERS_MAX = 99
PROGRESS_EVERY = 5000

# Headings people write, per field. Matching ignores spaces, case, full-width
# characters and bracketed hints such as "电话（必填）".
HEADINGS: dict[str, tuple[str, ...]] = {
    "compound": ("小区", "小区名称", "小区名", "所属小区", "所在小区", "compound"),
    "community": ("社区", "社区名称", "所属社区", "居委会", "community"),
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "楼栋名称", "楼", "栋", "幢", "building"),
    "unit": ("单元", "单元号", "unit", "entrance"),
    "room": ("房号", "房间号", "门牌号", "室", "房间", "户号", "room", "room number"),
    "address": ("地址", "住址", "门牌", "详细地址", "家庭住址", "房屋地址", "居住地址",
                "address"),
    "name": ("户主", "户主姓名", "姓名", "联系人", "联系人姓名", "业主", "业主姓名",
             "name", "contact", "head of household"),
    "phone": ("电话", "手机", "联系电话", "手机号", "手机号码", "电话号码", "联系方式",
              "联系人电话", "户主电话", "phone", "mobile", "phone number"),
    "phone_alt": ("备用电话", "备用手机", "其他电话", "第二电话", "second phone",
                  "alt phone", "phone 2"),
    "members": ("人数", "家庭人数", "常住人数", "户人数", "在住人数", "居住人数",
                "members", "household size"),
    "containment": ("管控状态", "管控", "管控类型", "区域类型", "防控状态", "containment",
                    "containment status"),
    "notes": ("备注", "说明", "notes", "remarks", "note"),
}
# Written containment statuses -> Containment values (areas.models).
CONTAINMENT_WORDS: dict[str, str] = {
    **dict.fromkeys(("封控区", "封控", "sealed", "sealedzone"), "sealed"),
    **dict.fromkeys(("管控区", "管控", "controlled", "controlledzone"), "controlled"),
    **dict.fromkeys(("防范区", "防范", "precaution", "precautionzone"), "precaution"),
    **dict.fromkeys(("无", "否", "正常", "未管控", "不管控", "none", "notcontrolled"), "none"),
}
# What people type into a cell that has nothing to say.
_PLACEHOLDERS = frozenset({"无", "暂无", "-", "--", "—", "/", "n/a", "na", "none", "null"})
_MOBILE = re.compile(r"1[3-9]\d{9}")
_HINT = re.compile(r"[（(【\[].*?[）)】\]]|[*＊:：]")


class RegisterFileError(InvalidInput):
    """The file as a whole cannot be imported (not a spreadsheet, empty, no headings...)."""

    code = "register_file_invalid"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


# Labels of what an update changed, for pages and summaries.
CHANGE_LABELS = {
    "members_count": gettext_lazy("members"),
    "phone": gettext_lazy("contact phone"),
    "phone_alt": gettext_lazy("second phone"),
    "containment": gettext_lazy("containment status"),
    "notes": gettext_lazy("notes"),
    "contact": gettext_lazy("contact person"),
    "contact_phone": gettext_lazy("contact person's phone"),
}


# --- reading: bytes -> heading + raw rows -------------------------------------------

@dataclass
class RegisterSheet:
    """The register part of a file: which field is in which column, and the data rows."""

    columns: dict[str, int]  # field -> position in each row tuple
    header_row: int  # 1-based, as Excel shows it
    rows: list[tuple[int, tuple[str, ...]]]  # (1-based sheet row, cells of `columns`)
    sheet_name: str = ""

    def has(self, name: str) -> bool:
        return name in self.columns


def _heading_key(text: str) -> str:
    return re.sub(r"\s+", "", _HINT.sub("", normalize_text(text))).lower()


_ALIASES = {_heading_key(alias): name for name, aliases in HEADINGS.items() for alias in aliases}
# Longest first, so "联系电话" wins over "电话" when matching the end of a heading.
_SUFFIXES = sorted((a for a in _ALIASES if len(a) >= 2), key=len, reverse=True)


def field_for_heading(heading: str) -> str | None:
    """Return the register field a column heading names, or None."""
    key = _heading_key(heading)
    if not key:
        return None
    name = _ALIASES.get(key)
    if name is None:
        name = next((_ALIASES[a] for a in _SUFFIXES if key.endswith(a)), None)
    if name == "phone" and key.startswith(("备用", "其他", "第二", "紧急")):
        name = "phone_alt"
    return name


def _map_heading(cells: list[str]) -> dict[str, int] | None:
    """Map a candidate heading row to {field: column}; None if it names no address."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = field_for_heading(cell)
        if name == "phone" and "phone" in found and "phone_alt" not in found:
            name = "phone_alt"  # two 电话 columns: the second is the spare number
        if name and name not in found:
            found[name] = index
    has_address = "address" in found or {"building", "room"} <= found.keys()
    return found if has_address else None


def cell_text(value: Any) -> str:
    """Turn a cell into text; spreadsheets hand numbers back as floats (502.0)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def read_register(data: bytes, *, filename: str = "") -> RegisterSheet:
    """Find the register in a spreadsheet or CSV file; raise RegisterFileError if there is none."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise RegisterFileError(
            _("The file is %(size)s; files up to %(limit)s can be imported. Split it into "
              "several files, for example one per compound."),
            size=filesizeformat(len(data)), limit=filesizeformat(limit))
    if not data.strip():
        raise RegisterFileError(_("The file is empty."))
    sheets = _spreadsheet_rows(data) if _looks_like_workbook(data) else [("", _csv_rows(data))]
    for sheet_name, rows in sheets:
        sheet = _find_register(rows, sheet_name)
        if sheet is not None:
            if not sheet.rows:
                raise RegisterFileError(
                    _("The file has a heading row (row %(row)s) but no households under it."),
                    row=sheet.header_row)
            return sheet
    raise RegisterFileError(
        _("No heading row was found in the first %(count)s rows. The register needs either "
          "an address column (地址) or building and room columns (楼栋, 房号; 单元 if the "
          "buildings have entrances); it may also have 小区, 户主, 电话, 人数, 管控状态 "
          "and 备注. Download the template to see the layout."),
        count=HEADER_SEARCH_ROWS)


def _looks_like_workbook(data: bytes) -> bool:
    # .xlsx/.ods are zip files, .xls is an OLE compound document.
    return data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _spreadsheet_rows(data: bytes) -> Iterator[tuple[str, Iterator[list[Any]]]]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [meta.name for meta in workbook.sheets_metadata
                 if str(meta.typ).endswith("WorkSheet")]
    except Exception as error:  # calamine raises several kinds for a damaged file
        raise RegisterFileError(
            _("The file could not be read as a spreadsheet (%(error)s). Save it again as "
              ".xlsx and retry."), error=type(error).__name__) from None
    return _sheets(workbook, names)


def _sheets(workbook: Any, names: list[str]) -> Iterator[tuple[str, Iterator[list[Any]]]]:
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception:  # noqa: S112 - a damaged extra sheet must not hide a good one
            continue
        # iter_rows starts at the sheet's first row even when it is empty, so the
        # index is the row number the user sees, less one.
        yield name, sheet.iter_rows()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode_csv(data)
    sample = text[:8192].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = "\t" if sum(s.count("\t") for s in sample) > sum(
        s.count(",") for s in sample) else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _decode_csv(data: bytes) -> str:
    """Decode a CSV file: UTF-8 with or without BOM, UTF-16 (Excel's "Unicode text"), GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise RegisterFileError(
            _("This is not a spreadsheet. Upload an Excel file (.xlsx) or a CSV file."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Chinese Excel saves CSV in GBK; GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RegisterFileError(
            _("This is not a spreadsheet. Upload an Excel file (.xlsx) or a CSV file.")
        ) from None


def _find_register(rows: Iterator[list[Any]], sheet_name: str) -> RegisterSheet | None:
    rows = iter(rows)
    columns = None
    header_row = 0
    for index, cells in enumerate(rows, start=1):
        columns = _map_heading([cell_text(c) for c in cells])
        if columns is not None:
            header_row = index
            break
        if index >= HEADER_SEARCH_ROWS:
            return None
    if columns is None:
        return None
    picks = list(columns.values())
    width = max(picks) + 1
    order = {name: position for position, name in enumerate(columns)}
    data: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in enumerate(rows, start=header_row + 1):
        if len(cells) < width:
            cells = list(cells) + [""] * (width - len(cells))
        # Most cells are already text: strip those inline, convert the rest.
        values = tuple(v.strip() if type(v) is str else cell_text(v)
                       for v in (cells[i] for i in picks))
        if any(values):
            data.append((number, values))
    return RegisterSheet(columns=order, header_row=header_row, rows=data, sheet_name=sheet_name)


# --- checking rows -----------------------------------------------------------------

@dataclass(slots=True)
class ParsedRow:
    """One valid data row. None means the file does not say (keep what is stored)."""

    row: int
    compound: str  # as written, "" when the file has no compound column
    community: str
    building: str  # building key: "3", "B"
    building_label: str  # the name a new building gets
    unit: str
    room: str
    name: str | None
    phone: str | None
    phone_alt: str | None
    members: int | None
    containment: str | None
    notes: str | None


@dataclass
class RowOutcome:
    row: int
    outcome: Outcome
    address: str
    reason: str = ""
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "outcome": str(self.outcome), "address": self.address,
                "reason": self.reason, "changes": self.changes}


class RowRejected(Exception):
    """Rejects one row during checking or matching; never leaves the importer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RowChecker:
    """Check rows one at a time, remembering the flats seen so far to catch duplicates.

    `compound_name` is the target compound's name when importing into one
    compound: it is stripped from the front of written addresses.
    """

    def __init__(self, sheet: RegisterSheet, *, compound_name: str = "") -> None:
        self.names = tuple(sheet.columns)  # the order of the cells in each row tuple
        self.compound_name = compound_name
        self.first_seen: dict[tuple[str, str, str, str], int] = {}

    def check(self, number: int, cells: tuple[str, ...]) -> ParsedRow | RowOutcome:
        """Return the parsed row, or its rejection."""
        values = dict(zip(self.names, cells, strict=True))
        try:
            row = _parse_row(number, values, self.compound_name)
            # One compound's file: the compound column (if any) does not tell flats apart.
            place = "" if self.compound_name else name_key(row.compound)
            key = (place, row.building, row.unit, row.room)
            if key in self.first_seen:
                raise RowRejected(_("Duplicate of row %(row)s in this file (same flat).")
                                  % {"row": self.first_seen[key]})
            self.first_seen[key] = number
        except RowRejected as rejection:
            return RowOutcome(number, Outcome.REJECTED, _written_address(values),
                              rejection.reason)
        return row


def parse_rows(sheet: RegisterSheet, *, compound_name: str = "",
               progress: Callable[[int, int], None] | None = None
               ) -> tuple[list[ParsedRow], list[RowOutcome]]:
    """Check every row; return the valid rows and the rejected ones."""
    checker = RowChecker(sheet, compound_name=compound_name)
    parsed: list[ParsedRow] = []
    rejected: list[RowOutcome] = []
    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
        result = checker.check(number, cells)
        if isinstance(result, ParsedRow):
            parsed.append(result)
        else:
            rejected.append(result)
    return parsed, rejected


def _written_address(values: dict[str, str]) -> str:
    parts = [values.get("compound", "")]
    if values.get("building") or values.get("room"):
        unit = values.get("unit", "")
        parts.append(" ".join(p for p in (values.get("building", ""),
                                          f"{unit}单元" if unit.isdigit() else unit,
                                          values.get("room", "")) if p))
    else:
        parts.append(values.get("address", ""))
    return " ".join(p for p in parts if p)


def _parse_row(number: int, values: dict[str, str], compound_name: str) -> ParsedRow:
    building, unit, room, building_label = _parse_address(values, compound_name)
    compound = _collapse_name(values.get("compound", ""))
    if len(compound) > AREA_NAME_MAX:
        raise RowRejected(_("The compound name is too long."))
    name = _optional(values, "name")
    if name is not None:
        name = _collapse(name)
        if len(name) > NAME_MAX:
            raise RowRejected(_("The name is longer than %(max)s characters.") % {"max": NAME_MAX})
    notes = _optional(values, "notes")
    if notes is not None and len(notes) > NOTES_MAX:
        raise RowRejected(_("The notes are longer than %(max)s characters.") % {"max": NOTES_MAX})
    return ParsedRow(
        row=number, compound=compound, community=_collapse_name(values.get("community", "")),
        building=building, building_label=building_label, unit=unit, room=room,
        name=name, phone=_phone(values, "phone"), phone_alt=_phone(values, "phone_alt"),
        members=_members(values), containment=_containment(values), notes=notes,
    )


def _collapse(text: str) -> str:
    return " ".join(text.split())


_collapse_name = functools.lru_cache(maxsize=4096)(_collapse)  # compound names repeat


@functools.lru_cache(maxsize=4096)  # the same few compound names on every row
def name_key(text: str) -> str:
    return re.sub(r"\s+", "", normalize_text(text)).lower()


def _optional(values: dict[str, str], name: str) -> str | None:
    text = values.get(name, "")
    if not text or text.lower() in _PLACEHOLDERS:
        return None
    return text


def _parse_address(values: dict[str, str], compound_name: str) -> tuple[str, str, str, str]:
    """Return (building key, unit, room, name for a new building) or reject the row."""
    building_text = values.get("building", "")
    room_text = values.get("room", "")
    if building_text and room_text:
        try:
            unit = unit_key(values.get("unit", ""))
        except AddressError:
            raise RowRejected(_("The entrance “%(value)s” is not a number.")
                            % {"value": values.get("unit", "")}) from None
        try:
            room = room_key(room_text)
        except AddressError:
            # "3栋" + "2单元502": the room column holds the rest of an address.
            address = _try_parse(building_text + values.get("unit", "") + room_text, "")
            if address is None:
                raise RowRejected(_("The room “%(value)s” is not a room number such as 502.")
                                % {"value": room_text}) from None
            return address.building, address.unit, address.room, building_name(address.building)
        key = building_key(building_text)
        return key, unit, room, _new_building_name(key, building_text)
    text = values.get("address", "")
    if not text:
        if building_text or room_text:
            raise RowRejected(_("The building or the room is missing."))
        raise RowRejected(_("The address is missing."))
    address = _try_parse(text, compound_name or values.get("compound", ""))
    if address is None:
        raise RowRejected(_("“%(value)s” is not an address that can be read; write it like "
                          "3号楼2单元502, 3栋502, 5-2-502 or B座1203.") % {"value": text})
    return address.building, address.unit, address.room, building_name(address.building)


# The forms most registers use, read without parse_address's general machinery
# (a third of the import's parsing time). Each gives exactly what parse_address
# gives; tests/areas/test_importer.py checks that they agree.
_N = "[0-9]{1,4}|[一二三四五六七八九十]{1,3}"
_FAST_FORMS = (
    re.compile(rf"({_N})(?:号楼|栋|幢|座|号|楼|#)({_N})单元([0-9]{{3,4}})室?"),
    re.compile(r"([0-9]{1,4})[-#]([0-9]{1,2})-([0-9]{3,4})"),
    re.compile(rf"({_N})(?:号楼|栋|幢|座|号|楼|#)()([0-9]{{3,4}})室?"),
)


def fast_parse_address(text: str) -> Address | None:
    """Read the commonest written forms quickly; None means "ask parse_address"."""
    for pattern in _FAST_FORMS:
        match = pattern.fullmatch(text)
        if match:
            building, unit, room = match.groups()
            return Address(_number(building), _number(unit) if unit else "", room)
    return None


def _number(text: str) -> str:
    return str(int(text)) if text.isascii() else str(chinese_to_int(text))


def _try_parse(text: str, compound_name: str) -> Address | None:
    fast = fast_parse_address(text)
    if fast is not None:
        return fast
    try:
        return parse_address(text)
    except AddressError:
        pass
    cleaned = normalize_text(text)
    if compound_name and cleaned.startswith(compound_name):
        try:
            return parse_address(cleaned[len(compound_name):])
        except AddressError:
            pass
    # "阳光小区3号楼2单元502", "幸福路12号3栋502": take the address at the end of the text.
    found = find_address(cleaned)
    while found is not None:
        address, (_start, end) = found
        rest = cleaned[end:]
        if not re.sub(r"[\s室房号]", "", rest):
            return address
        found = find_address(rest)
    return None


def _new_building_name(key: str, written: str) -> str:
    if re.fullmatch(r"[A-Z]?\d+[A-Z]?|[A-Z]", key):
        return building_name(key)
    return _collapse(normalize_text(written))  # "综合楼": keep the name as written


def _phone(values: dict[str, str], name: str) -> str | None:
    text = _optional(values, name)
    if text is None:
        return None
    if _MOBILE.fullmatch(text):  # already normalised: most cells, and much faster
        return text
    try:
        return normalize_phone(text)
    except PhoneError:
        if name == "phone":
            message = _("The phone “%(value)s” is not a mainland mobile or landline number.")
        else:
            message = _("The second phone “%(value)s” is not a mainland mobile or landline "
                        "number.")
        raise RowRejected(message % {"value": text}) from None


def _members(values: dict[str, str]) -> int | None:
    text = _optional(values, "members")
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        count = int(text)
        if 1 <= count <= MEMBERS_MAX:
            return count
    bare = normalize_text(text).rstrip("人口").strip()
    try:
        count = int(bare) if bare.isdigit() else chinese_to_int(bare)
    except (AddressError, ValueError):
        count = None
    if count is None or not bare:
        raise RowRejected(_("The number of members “%(value)s” is not a whole number.")
                        % {"value": text})
    if not 1 <= count <= MEMBERS_MAX:
        raise RowRejected(_("The number of members must be between 1 and %(max)s, not %(value)s.")
                        % {"max": MEMBERS_MAX, "value": count})
    return count


def _containment(values: dict[str, str]) -> str | None:
    text = values.get("containment", "")
    if not text:
        return None
    status = CONTAINMENT_WORDS.get(text) or CONTAINMENT_WORDS.get(_heading_key(text))
    if status is None:
        raise RowRejected(_("The containment status “%(value)s” is not one of 封控区, 管控区, "
                          "防范区 or 无 (sealed, controlled, precaution, none).")
                        % {"value": text})
    return status
