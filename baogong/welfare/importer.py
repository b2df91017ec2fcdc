"""Import a community's special-care register from Excel, like the household register.

Each row names a resident already in the household register (compound,
building/entrance/room or a written address, and name) and their categories
and details. Rows are checked one by one; a rejected row is reported with its
line number and reason in the user's language, valid rows are saved, and
importing the same file twice changes nothing (care_save updates one record
per resident). Empty cells leave existing values as they are.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from baogong.areas.addresses import (
    AddressError,
    building_key,
    normalize_text,
    parse_address,
    room_key,
    unit_key,
)
from baogong.areas.importer.reading import cell_text
from baogong.areas.models import Area, Resident
from baogong.core.errors import DomainError, InvalidInput
from baogong.core.phones import PhoneError, normalize_phone
from baogong.welfare.models import Category, Hearing, Mobility, SpecialCare
from baogong.welfare.services import CareDetails, care_save

if TYPE_CHECKING:
    from baogong.accounts.models import User

MAX_ROWS = 5000  # a community's register; larger files are a mistake, not a register

# Heading → field. Headings are matched without spaces, case-insensitively.
HEADINGS = {
    "compound": ("小区", "小区名称", "compound"),
    "building": ("楼栋", "楼号", "栋", "building"),
    "unit": ("单元", "entrance", "unit"),
    "room": ("房号", "门牌号", "户号", "room"),
    "address": ("地址", "住址", "家庭住址", "address"),
    "name": ("姓名", "name"),
    "categories": ("类别", "人员类别", "特殊群体类别", "categories", "category"),
    "mobility": ("行动能力", "mobility"),
    "medicines": ("药品", "常用药", "常用药品", "medicines", "medicine"),
    "language": ("方言", "语言", "语言方言", "language"),
    "hearing": ("听力", "hearing"),
    "emergency_name": ("紧急联系人", "emergencycontact"),
    "emergency_phone": ("紧急联系电话", "紧急联系人电话", "emergencyphone"),
    "needs_door_delivery": ("送货上门", "需要送货上门", "doordelivery"),
    "consent": ("本人同意", "知情同意", "consent"),
    "consent_date": ("同意日期", "consentdate"),
    "review_date": ("复核日期", "reviewdate"),
    "cadence_days": ("回访周期", "回访间隔", "回访周期天", "callevery"),
    "notes": ("备注", "notes"),
}
_HEADING_FIELD = {
    re.sub(r"[\s（）()]", "", a).lower(): f for f, names in HEADINGS.items() for a in names
}
# Words people write for each category, besides the labels themselves.
_CATEGORY_WORDS = {
    Category.ELDERLY_ALONE: ("独居老人", "独居", "空巢老人", "高龄独居"),
    Category.DISABLED: ("残疾人", "残疾", "残障"),
    Category.PREGNANT: ("孕妇", "孕产妇"),
    Category.CHRONIC_ILLNESS: ("慢性病", "慢病", "需长期服药", "长期服药"),
    Category.CHILD_IN_DIFFICULTY: ("困境儿童", "留守儿童"),
    Category.HARDSHIP: ("困难家庭", "低保", "低收入", "特困"),
    Category.OTHER: ("其他",),
}
_MOBILITY_WORDS = {
    Mobility.INDEPENDENT: ("能自理", "自理", "正常"),
    Mobility.WITH_HELP: ("需搀扶", "搀扶", "半自理"),
    Mobility.WHEELCHAIR: ("轮椅",),
    Mobility.BEDRIDDEN: ("卧床", "瘫痪"),
}
_HEARING_WORDS = {
    Hearing.NORMAL: ("正常",),
    Hearing.HARD: ("耳背", "听力差", "弱"),
    Hearing.DEAF: ("聋", "失聪"),
}
_YES = {"是", "有", "需要", "同意", "y", "yes", "1", "true", "√", "✓"}


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RowRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _choice(text: str, words: dict, labels: list[tuple[str, Any]], what: str) -> str:
    for value, label in labels:
        if text in (value, str(label)):
            return value
    for value, variants in words.items():
        if any(v in text for v in variants):
            return value
    raise RowRejected(_("Unknown %(what)s: “%(value)s”.") % {"what": what, "value": text})


def _categories(text: str) -> list[str]:
    found = []
    for part in filter(None, re.split(r"[,，、;；/\s]+", text)):
        found.append(_choice(part, _CATEGORY_WORDS, Category.choices, _("category")))
    return list(dict.fromkeys(found))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10].replace("/", "-").replace(".", "-"))
    except ValueError:
        raise RowRejected(
            _("Not a date: “%(value)s” (write 2022-04-15).") % {"value": text}
        ) from None


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, field → text) for each non-empty row under the heading row."""
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
    except Exception:
        raise InvalidInput(_("This is not an Excel (.xlsx) file.")) from None
    columns: dict[int, str] | None = None
    rows = []
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [cell_text(v) for v in values]
        if columns is None:
            mapped = {
                i: _HEADING_FIELD.get(re.sub(r"[\s（）()]", "", c).lower())
                for i, c in enumerate(cells)
            }
            mapped = {i: f for i, f in mapped.items() if f}
            if "name" in mapped.values() and "categories" in mapped.values():
                columns = mapped
            continue
        row = {f: cells[i] for i, f in columns.items() if i < len(cells) and cells[i]}
        if row:
            rows.append((line, row))
        if len(rows) > MAX_ROWS:
            raise InvalidInput(_("The file has more than %(max)s rows."), max=MAX_ROWS)
    if columns is None:
        raise InvalidInput(_("No heading row with 姓名 (name) and 类别 (categories) was found."))
    return rows


def register_import(data: bytes, *, into: Area, by: User | None) -> ImportReport:
    """Import the rows of `data` into the register of `into`'s households; see module doc."""
    rows = read_rows(data)
    residents = {}
    for resident in Resident.objects.filter(
        household__building__path__startswith=into.path
    ).select_related("household__building", "household__compound"):
        household = resident.household
        key = (
            building_key(household.building.name),
            unit_key(household.unit),
            room_key(household.room),
            normalize_text(resident.name),
        )
        residents.setdefault(key, []).append(resident)
    existing = {
        c.resident_id: c
        for c in SpecialCare.objects.filter(household__building__path__startswith=into.path)
    }
    report = ImportReport()
    for line, row in rows:
        try:
            resident = _match(row, residents)
            details = _details(row, existing.get(resident.pk), resident)
            before = existing.get(resident.pk)
            if (
                before is not None
                and before.active
                and _snapshot(details) == _snapshot(before)
                and details.needs_door_delivery == resident.needs_door_delivery
            ):
                report.unchanged += 1  # a second import of the same file writes nothing
                continue
            # One savepoint per row: a row refused by the service leaves the others saved.
            with transaction.atomic():
                care = care_save(resident=resident, details=details, by=by, reason="import")
            existing[resident.pk] = care
            if before is None:
                report.created += 1
            else:
                report.updated += 1
        except RowRejected as error:
            report.errors.append(RowError(line, error.reason))
        except DomainError as error:
            report.errors.append(RowError(line, error.message))
    return report


def _match(row: dict[str, str], residents: dict) -> Resident:
    name = normalize_text(row.get("name", ""))
    if not name:
        raise RowRejected(_("The name is empty."))
    if row.get("building") and row.get("room"):
        key = (building_key(row["building"]), unit_key(row.get("unit", "")), room_key(row["room"]))
    elif row.get("address"):
        try:
            address = parse_address(row["address"])
        except AddressError:
            raise RowRejected(
                _("Cannot read the address “%(value)s”.") % {"value": row["address"]}
            ) from None
        key = address.natural_key
    else:
        raise RowRejected(_("Give the building and room, or the address."))
    found = residents.get((*key, name), [])
    if row.get("compound"):
        found = [r for r in found if r.household.compound.name == row["compound"].strip()]
    if not found:
        raise RowRejected(
            _("%(name)s is not in the household register at this address.") % {"name": row["name"]}
        )
    if len(found) > 1:
        raise RowRejected(
            _("More than one %(name)s at this address: add the compound.") % {"name": row["name"]}
        )
    return found[0]


def _details(row: dict[str, str], care: SpecialCare | None, resident: Resident) -> CareDetails:
    if "categories" not in row and care is None:
        raise RowRejected(_("Give at least one category."))
    d = CareDetails(
        categories=list(care.categories) if care else [],
        needs_door_delivery=resident.needs_door_delivery,
    )
    if care is not None:
        for name in (
            "mobility",
            "medicines",
            "language",
            "hearing",
            "emergency_name",
            "emergency_phone",
            "consent",
            "consent_date",
            "review_date",
            "cadence_days",
            "notes",
        ):
            setattr(d, name, getattr(care, name))
    if "categories" in row:
        d.categories = _categories(row["categories"])
    if "mobility" in row:
        d.mobility = _choice(row["mobility"], _MOBILITY_WORDS, Mobility.choices, _("mobility"))
    if "hearing" in row:
        d.hearing = _choice(row["hearing"], _HEARING_WORDS, Hearing.choices, _("hearing"))
    for name in ("medicines", "language", "emergency_name", "notes"):
        if name in row:
            setattr(d, name, row[name])
    if "emergency_phone" in row:
        try:
            d.emergency_phone = normalize_phone(row["emergency_phone"])
        except PhoneError:
            raise RowRejected(_("The emergency contact phone is not a phone number.")) from None
    if "needs_door_delivery" in row:
        d.needs_door_delivery = row["needs_door_delivery"].lower() in _YES
    if "consent" in row:
        d.consent = row["consent"].lower() in _YES
    if "consent_date" in row:
        d.consent_date = _date(row["consent_date"])
    if "review_date" in row:
        d.review_date = _date(row["review_date"])
    if "cadence_days" in row:
        digits = re.sub(r"\D", "", row["cadence_days"])
        if not digits:
            raise RowRejected(_("Call every: write a number of days."))
        d.cadence_days = int(digits)
    return d


def _snapshot(care: SpecialCare | CareDetails) -> tuple:
    return tuple(
        getattr(care, f)
        for f in (
            "categories",
            "mobility",
            "medicines",
            "language",
            "hearing",
            "emergency_name",
            "emergency_phone",
            "consent",
            "consent_date",
            "review_date",
            "cadence_days",
            "notes",
        )
    )


def template_bytes() -> bytes:
    """An empty register with the headings the importer reads and one example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "特殊群体"
    sheet.append(
        [
            "小区",
            "楼栋",
            "单元",
            "房号",
            "姓名",
            "类别",
            "行动能力",
            "常用药品",
            "方言",
            "听力",
            "紧急联系人",
            "紧急联系电话",
            "送货上门",
            "本人同意",
            "同意日期",
            "复核日期",
            "回访周期",
            "备注",
        ]
    )
    sheet.append(
        [
            "示例小区",
            "3号楼",
            "2",
            "502",
            "示例居民",
            "独居老人、慢性病",
            "需搀扶",
            "降压药",
            "襄阳话",
            "耳背",
            "示例家属",
            "17000000000",
            "是",
            "是",
            "2022-04-15",
            "2022-05-15",
            "3",
            "",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
