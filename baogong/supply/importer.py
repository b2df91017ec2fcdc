"""Import supplier-to-area assignments from a spreadsheet, as street offices keep them.

The lists look like the seed plan's attachment "List of corresponding offices for
distribution companies": one row per supplier and area, with the supplier in a
保供单位 (or 供应商) column and the area in 街道 / 社区 / 小区 columns, the most
specific one filled naming the node served. A cell may name several areas
("王寨街道、汉江街道"); a supplier cell merged over several rows counts for each.

Two steps, each testable alone:

1. `read_assignments` turns a file's bytes into `AssignmentRow`s (no database).
2. `assignment_import` (the service) resolves suppliers and areas, reports every
   row with its outcome and reason and, unless it is a dry run, adds the new
   assignments in one transaction. Importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.supply.models import Supplier, SupplierArea
from baogong.supply.services import SUPPLIER_ADMIN_ROLES, name_key

if TYPE_CHECKING:
    from baogong.accounts.models import User

HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000
LEVELS = ("street", "community", "compound")
KIND_OF_LEVEL = {
    "street": Area.Kind.STREET,
    "community": Area.Kind.COMMUNITY,
    "compound": Area.Kind.COMPOUND,
}
# Headings people write, per column; matching ignores spaces, case, full-width
# characters, bracketed hints and words such as 对应/所属 in front or 名称 behind.
HEADINGS: dict[str, tuple[str, ...]] = {
    "supplier": (
        "保供单位",
        "供应商",
        "供货单位",
        "保供企业",
        "配送企业",
        "企业",
        "单位",
        "商户",
        "超市",
        "门店",
        "商家",
        "供应单位",
        "supplier",
        "company",
    ),
    "street": (
        "街道",
        "街道办事处",
        "办事处",
        "街道办",
        "镇",
        "乡镇",
        "镇街",
        "street",
        "streetoffice",
        "office",
    ),
    "community": ("社区", "居委会", "社区居委会", "村", "村委会", "community"),
    "compound": ("小区", "村民小组", "组", "compound"),
}
# What names of a level may end with, longest first: 王寨街道办事处 and 王寨街道 are one place.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "street": ("街道办事处", "办事处", "街道办", "街道", "人民政府", "镇", "乡"),
    "community": (
        "社区居民委员会",
        "居民委员会",
        "社区居委会",
        "村民委员会",
        "居委会",
        "村委会",
        "社区",
        "村",
    ),
    "compound": ("小区",),
}
TEMPLATE_HEADINGS = ("保供单位", "街道", "社区", "小区")
_HINT = re.compile(r"[（(【\[].*?[）)】\]]|[*＊:：]")
_PREFIX = re.compile(r"^(对应|所属|服务|负责|配送|保供)")
_SUFFIX = re.compile(r"(名称|名字|name)$")
_SEVERAL = re.compile(r"[、，,;；/\n]+")


class AssignmentFileError(InvalidInput):
    """The file as a whole cannot be read (not a spreadsheet, no heading row...)."""

    code = "assignment_file_invalid"


class Outcome(StrEnum):
    ADDED = "added"
    EXISTING = "existing"
    SKIPPED = "skipped"
    REJECTED = "rejected"


OUTCOME_LABELS = {
    Outcome.ADDED: gettext_lazy("added"),
    Outcome.EXISTING: gettext_lazy("already assigned"),
    Outcome.SKIPPED: gettext_lazy("repeated"),
    Outcome.REJECTED: gettext_lazy("rejected"),
}


@dataclass(frozen=True)
class AssignmentRow:
    """One data row as written: 1-based sheet row number and the four cells."""

    row: int
    supplier: str
    street: str = ""
    community: str = ""
    compound: str = ""

    def as_list(self) -> list[Any]:
        return [self.row, self.supplier, self.street, self.community, self.compound]

    @classmethod
    def from_list(cls, values: list[Any]) -> AssignmentRow:
        row, supplier, street, community, compound = values
        return cls(int(row), str(supplier), str(street), str(community), str(compound))


@dataclass
class RowResult:
    row: int
    supplier: str
    area: str
    outcome: Outcome
    reason: str = ""

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


@dataclass
class ImportReport:
    results: list[RowResult] = field(default_factory=list)
    dry_run: bool = True

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def added(self) -> int:
        return self.count(Outcome.ADDED)

    @property
    def existing(self) -> int:
        return self.count(Outcome.EXISTING)

    @property
    def skipped(self) -> int:
        return self.count(Outcome.SKIPPED)

    @property
    def rejected(self) -> int:
        return self.count(Outcome.REJECTED)

    @property
    def rejected_results(self) -> list[RowResult]:
        return [r for r in self.results if r.outcome == Outcome.REJECTED]

    @property
    def other_results(self) -> list[RowResult]:
        return [r for r in self.results if r.outcome != Outcome.REJECTED]


# ---------------------------------------------------------------------------
# 1. Reading (no database)
# ---------------------------------------------------------------------------


def _normalize(text: str) -> str:
    return name_key(_HINT.sub("", str(text)))


def _heading_key(text: str) -> str:
    key = _normalize(text)
    return _SUFFIX.sub("", _PREFIX.sub("", key)) or key


_ALIASES = {_heading_key(a): column for column, names in HEADINGS.items() for a in names}


def column_for_heading(heading: str) -> str | None:
    """The column a heading names ("对应街道（办事处）" → "street"), or None."""
    key = _heading_key(heading)
    return _ALIASES.get(key) or _ALIASES.get(_normalize(heading))


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def read_assignments(data: bytes) -> list[AssignmentRow]:
    """Find the assignment list in a spreadsheet (.xlsx, .xls, .ods) or CSV file.

    Raises AssignmentFileError when the file is empty, too big, not a
    spreadsheet, or has no heading row naming a supplier and an area column.
    """
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise AssignmentFileError(
            _("The file is %(size)s; files up to %(limit)s can be imported."),
            size=filesizeformat(len(data)),
            limit=filesizeformat(limit),
        )
    if not data.strip():
        raise AssignmentFileError(_("The file is empty."))
    sheets = _workbook_sheets(data) if _is_workbook(data) else [_csv_rows(data)]
    for grid in sheets:
        rows = _rows_under_heading(grid)
        if rows is not None:
            if not rows:
                raise AssignmentFileError(_("The file has a heading row but no rows under it."))
            if len(rows) > MAX_ROWS:
                raise AssignmentFileError(
                    _("The file has %(count)s rows; split it into files of at most %(max)s."),
                    count=len(rows),
                    max=MAX_ROWS,
                )
            return rows
    raise AssignmentFileError(
        _(
            "No heading row was found in the first %(count)s rows. The list needs a supplier "
            "column (保供单位 or 供应商) and at least one of 街道, 社区 and 小区. Download "
            "the template to see the layout."
        ),
        count=HEADER_SEARCH_ROWS,
    )


def _is_workbook(data: bytes) -> bool:
    # .xlsx/.ods are zip files, .xls an OLE compound document.
    return data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _workbook_sheets(data: bytes) -> list[list[list[str]]]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    except Exception as error:  # calamine raises several kinds for a damaged file
        raise AssignmentFileError(
            _(
                "The file could not be read as a spreadsheet (%(error)s). Save it again as "
                ".xlsx and retry."
            ),
            error=type(error).__name__,
        ) from None
    sheets = []
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            grid = [[cell_text(c) for c in row] for row in sheet.to_python(skip_empty_area=False)]
            _fill_merged(grid, sheet.merged_cell_ranges or [])
        except Exception:  # noqa: S112 - a damaged extra sheet must not hide a good one
            continue
        sheets.append(grid)
    return sheets


def _fill_merged(grid: list[list[str]], ranges: list[Any]) -> None:
    """Give every cell of a merged range the value of its top-left cell."""
    for (top, left), (bottom, right) in ranges:
        if top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left]
        for r in range(top, min(bottom, len(grid) - 1) + 1):
            for c in range(left, min(right, len(grid[r]) - 1) + 1):
                grid[r][c] = value


def _csv_rows(data: bytes) -> list[list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif b"\x00" in data[:4096]:
        raise AssignmentFileError(_("This is not a spreadsheet. Upload an Excel file (.xlsx)."))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Chinese Excel saves CSV in GBK
            except UnicodeDecodeError:
                raise AssignmentFileError(
                    _("This is not a spreadsheet. Upload an Excel file (.xlsx).")
                ) from None
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    return [
        [cell_text(c) for c in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]


def _rows_under_heading(grid: list[list[str]]) -> list[AssignmentRow] | None:
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            column = column_for_heading(cell) if cell else None
            if column and column not in columns:
                columns[column] = position
        if "supplier" in columns and columns.keys() & set(LEVELS):
            return _data_rows(grid, index, columns)
    return None


def _data_rows(grid: list[list[str]], header: int, columns: dict[str, int]) -> list[AssignmentRow]:
    rows = []
    for number, cells in enumerate(grid[header + 1 :], start=header + 2):
        values = {
            name: cells[position] if position < len(cells) else ""
            for name, position in columns.items()
        }
        if any(values.values()):
            rows.append(
                AssignmentRow(
                    row=number, **{name: values.get(name, "") for name in ("supplier", *LEVELS)}
                )
            )
    return rows


def template_workbook(examples: list[AssignmentRow]) -> bytes:
    """An .xlsx with the heading row, a few example rows and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "保供单位对应表"
    sheet.append(list(TEMPLATE_HEADINGS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in examples:
        sheet.append([example.supplier, example.street, example.community, example.compound])
    for column, width in zip("ABCD", (28, 18, 18, 22), strict=True):
        sheet.column_dimensions[column].width = width
    notes = workbook.create_sheet(_("Instructions")[:31])
    for line in (
        _("One row per supplier and area it serves."),
        _("保供单位: the supplier's name as registered in Baogong."),
        _(
            "街道, 社区, 小区: fill the street office; add the community and the compound "
            "when the supplier serves only that part. The most specific one filled is the "
            "area served, with everything below it."
        ),
        _("A cell may name several areas separated by 、 (for example 王寨街道、汉江街道)."),
        _("Importing the same file again adds nothing."),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------
# 2. Resolving and writing
# ---------------------------------------------------------------------------


def _area_key(level: str, name: str) -> str:
    key = name_key(name)
    for suffix in SUFFIXES[level]:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


@dataclass
class _Place:
    pk: int
    name: str
    path: str
    kind: str
    parent_id: int | None


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Resolver:
    """Names → suppliers and areas, from a few queries made once per import."""

    def __init__(self, by: User | None) -> None:
        self.suppliers = {name_key(s.name): s for s in Supplier.objects.all()}
        self.by = by
        self.scope_paths = (
            None
            if by is None or scope_for(by).superuser
            else scope_for(by).paths_for(SUPPLIER_ADMIN_ROLES)
        )
        self.places: dict[tuple[str, str], list[_Place]] = defaultdict(list)
        self.by_pk: dict[int, _Place] = {}
        for pk, name, path, kind, parent_id in Area.objects.filter(
            kind__in=[*KIND_OF_LEVEL.values(), Area.Kind.DISTRICT]
        ).values_list("pk", "name", "path", "kind", "parent_id"):
            place = _Place(pk, name, path, kind, parent_id)
            self.by_pk[pk] = place
            for level, level_kind in KIND_OF_LEVEL.items():
                if kind == level_kind:
                    self.places[(level, name_key(name))].append(place)
                    short = _area_key(level, name)
                    if short != name_key(name):
                        self.places[(level, short)].append(place)

    def supplier(self, name: str) -> Supplier:
        if not name:
            raise _Rejected(_("The supplier is missing."))
        supplier = self.suppliers.get(name_key(name))
        if supplier is None:
            close = difflib.get_close_matches(name_key(name), list(self.suppliers), n=1, cutoff=0.6)
            if close:
                raise _Rejected(
                    _("No supplier is named “%(name)s”. Did you mean “%(guess)s”?")
                    % {"name": name, "guess": self.suppliers[close[0]].name}
                )
            raise _Rejected(
                _("No supplier is named “%(name)s”. Register it on the suppliers page first.")
                % {"name": name}
            )
        if not supplier.is_active:
            raise _Rejected(
                _("“%(name)s” is no longer active and cannot be assigned.") % {"name": name}
            )
        return supplier

    def in_scope(self, place: _Place) -> bool:
        return self.scope_paths is None or any(place.path.startswith(p) for p in self.scope_paths)

    def place(self, level: str, name: str, within: _Place | None) -> _Place:
        exact = self.places.get((level, name_key(name)), [])
        found = exact or self.places.get((level, _area_key(level, name)), [])
        if within is not None:
            found = [p for p in found if p.path.startswith(within.path)]
        found = list({p.pk: p for p in found}.values())
        if len(found) > 1:
            mine = [p for p in found if self.in_scope(p)]
            found = mine or found
        kind_label = Area.Kind(KIND_OF_LEVEL[level]).label
        if not found:
            if within is not None:
                raise _Rejected(
                    _("There is no %(kind)s “%(name)s” in %(parent)s.")
                    % {"kind": kind_label, "name": name, "parent": within.name}
                )
            raise _Rejected(
                _("There is no %(kind)s named “%(name)s”.") % {"kind": kind_label, "name": name}
            )
        if len(found) > 1:
            parents = "、".join(
                sorted({self.by_pk[p.parent_id].name for p in found if p.parent_id in self.by_pk})
            )
            raise _Rejected(
                _("“%(name)s” names several places (in %(parents)s); fill the column above it too.")
                % {"name": name, "parents": parents}
            )
        return found[0]

    def label(self, place: _Place) -> str:
        names = []
        node: _Place | None = place
        while node is not None and node.kind != Area.Kind.DISTRICT:
            names.append(node.name)
            node = self.by_pk.get(node.parent_id) if node.parent_id else None
        return " › ".join(reversed(names))

    def targets(self, row: AssignmentRow) -> list[tuple[str, _Place | None, str]]:
        """(written name, area or None, reason) for each area the row names."""
        cells = {level: getattr(row, level).strip() for level in LEVELS}
        filled = [level for level in LEVELS if cells[level]]
        if not filled:
            raise _Rejected(_("No street office, community or compound is given."))
        target = filled[-1]
        within: _Place | None = None
        for level in filled[:-1]:
            if len(_SEVERAL.split(cells[level])) > 1:
                raise _Rejected(
                    _(
                        "Only the last area column filled may name several places; write one "
                        "row for each."
                    )
                )
            within = self.place(level, cells[level], within)
        results: list[tuple[str, _Place | None, str]] = []
        for name in filter(None, (n.strip() for n in _SEVERAL.split(cells[target]))):
            try:
                place = self.place(target, name, within)
            except _Rejected as rejection:
                results.append((name, None, rejection.reason))
                continue
            if not self.in_scope(place):
                results.append(
                    (
                        self.label(place),
                        None,
                        _("“%(name)s” is outside your area.") % {"name": place.name},
                    )
                )
                continue
            results.append((self.label(place), place, ""))
        return results


def assignment_import(rows: list[AssignmentRow], *, by: User | None, dry_run: bool) -> ImportReport:
    """Resolve every row and, unless `dry_run`, add the new assignments in one transaction.

    Rows already assigned, or repeated within the file, add nothing; rejected rows
    are reported with their row number and reason and the valid ones are kept.
    Raises NotAllowed unless `by` is street office staff or a district admin.
    """
    if by is not None:
        scope = scope_for(by)
        if not (scope.superuser or scope.paths_for(SUPPLIER_ADMIN_ROLES)):
            raise NotAllowed()
    resolver = _Resolver(by)
    report = ImportReport(dry_run=dry_run)
    wanted: list[tuple[RowResult, Supplier, _Place]] = []
    first_seen: dict[tuple[int, int], int] = {}
    for row in rows:
        try:
            supplier = resolver.supplier(row.supplier.strip())
            targets = resolver.targets(row)
        except _Rejected as rejection:
            area = " › ".join(c for c in (row.street, row.community, row.compound) if c)
            report.results.append(
                RowResult(row.row, row.supplier, area, Outcome.REJECTED, rejection.reason)
            )
            continue
        for label, place, reason in targets:
            if place is None:
                report.results.append(
                    RowResult(row.row, supplier.name, label, Outcome.REJECTED, reason)
                )
                continue
            result = RowResult(row.row, supplier.name, label, Outcome.ADDED)
            key = (supplier.pk, place.pk)
            if key in first_seen:
                result.outcome = Outcome.SKIPPED
                result.reason = _("Same as row %(row)s of this file.") % {"row": first_seen[key]}
            else:
                first_seen[key] = row.row
                wanted.append((result, supplier, place))
            report.results.append(result)
    if wanted:
        _write(wanted, by=by, dry_run=dry_run)
    return report


@transaction.atomic
def _write(
    wanted: list[tuple[RowResult, Supplier, _Place]], *, by: User | None, dry_run: bool
) -> None:
    supplier_ids = sorted({supplier.pk for _result, supplier, _place in wanted})
    if not dry_run:
        # Lock the suppliers (in pk order) so that two imports, or an import and the
        # assignment page, cannot both add the same pair between check and insert.
        list(
            Supplier.objects.select_for_update()
            .filter(pk__in=supplier_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    existing = set(
        SupplierArea.objects.filter(
            supplier_id__in=supplier_ids,
            area_id__in={place.pk for _result, _supplier, place in wanted},
        ).values_list("supplier_id", "area_id")
    )
    new = []
    for result, supplier, place in wanted:
        if (supplier.pk, place.pk) in existing:
            result.outcome = Outcome.EXISTING
        else:
            new.append(SupplierArea(supplier=supplier, area_id=place.pk, assigned_by=by))
    if new and not dry_run:
        bulk_create_with_history(new, SupplierArea, default_user=by)
