"""Write the household register to .xlsx: the export of an area, and the empty template.

The export uses the same Chinese headings the importer reads, so an exported
register can be edited and imported back (every row unchanged until edited).
Both are written with openpyxl's write-only mode into a file, so a 100,000-row
register never sits in memory as cells.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from baogong.areas.models import Area, Containment, Household, Resident

if TYPE_CHECKING:
    from django.db.models import QuerySet

# Headings are data, not interface text: the importer reads these words.
HEADINGS_FULL = ["社区", "小区", "楼栋", "单元", "房号", "户主", "电话", "备用电话", "人数",
                 "管控状态", "备注"]
PERSONAL_HEADINGS = {"户主", "电话", "备用电话", "备注"}
CONTAINMENT_WORDS = {Containment.SEALED: "封控区", Containment.CONTROLLED: "管控区",
                     Containment.PRECAUTION: "防范区", Containment.NONE: "无"}
TEMPLATE_HEADINGS = ["小区", "楼栋", "单元", "房号", "户主", "电话", "备用电话", "人数",
                     "管控状态", "备注"]
TEMPLATE_EXAMPLE = ["阳光小区", "3号楼", "2", "502", "张三", "17000000000", "", 3, "防范区",
                    "示例行，导入前请删除"]


def export_headings(*, personal: bool) -> list[str]:
    """Headings of an export; without personal data, names, phones and notes are left out.

    Notes go too: they often hold health details ("独居老人，行动不便").
    """
    return [h for h in HEADINGS_FULL if personal or h not in PERSONAL_HEADINGS]


def register_rows(households: QuerySet[Household], *, personal: bool) -> Any:
    """Yield one list of cell values per household, in export_headings order."""
    contact = Resident.objects.filter(household=OuterRef("pk"), is_contact=True).order_by("name")
    fields = ["compound__parent__name", "compound__name", "building__name", "unit", "room"]
    if personal:
        households = households.annotate(contact_name=Subquery(contact.values("name")[:1]))
        fields += ["contact_name", "phone", "phone_alt"]
    fields += ["members_count", "containment"]
    if personal:
        fields += ["notes"]
    rows = households.order_by("compound__path", "building_id", "unit", "room").values_list(
        *fields)
    containment_at = fields.index("containment")
    for row in rows.iterator(chunk_size=2000):
        values = list(row)
        values[containment_at] = CONTAINMENT_WORDS.get(values[containment_at], "")
        yield [value if value is not None else "" for value in values]


def write_register(out: IO[bytes], households: QuerySet[Household], *, area: Area,
                   personal: bool) -> int:
    """Write the register of `households` to `out` as .xlsx; return the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Register"))
    sheet.freeze_panes = "A3"
    sheet.append([_("Household register of %(area)s") % {"area": area.name}])
    sheet.append(_bold(sheet, export_headings(personal=personal)))
    count = 0
    for row in register_rows(households, personal=personal):
        sheet.append(row)
        count += 1
    workbook.save(out)
    return count


def write_template(out: IO[bytes]) -> None:
    """Write the empty register template: headings, one example row, and instructions."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("住户登记")
    sheet.append(_bold(sheet, TEMPLATE_HEADINGS))
    sheet.append(TEMPLATE_EXAMPLE)
    notes = workbook.create_sheet(_("Instructions"))
    for line in _instructions():
        notes.append([line])
    workbook.save(out)


def _bold(sheet: Any, values: list[str]) -> list[Any]:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _instructions() -> list[str]:
    return [
        _("How to fill in the household register"),
        "",
        _("One row per household (flat). Keep the heading row; a title row above it is fine."),
        _("小区: the compound. Needed when you import into a community or street; a compound "
          "that does not exist yet is created under the community."),
        _("楼栋, 单元, 房号: building, entrance and room, e.g. 3号楼 / 2 / 502. Instead of these "
          "three columns you may use one 地址 column written like 3号楼2单元502, 3栋502, "
          "5-2-502 or B座1203."),
        _("户主 and 电话: the household's contact person and a mainland mobile or landline "
          "number. 备用电话 is a second number."),
        _("人数: how many people live there (1 to 99)."),
        _("管控状态: 封控区, 管控区, 防范区 or 无 (sealed, controlled, precaution, none)."),
        _("备注: anything else, up to 500 characters."),
        _("Empty cells leave what the register already holds unchanged. Importing the same "
          "file again changes nothing."),
        _("Delete the example row before importing. Every import is checked first and shows "
          "each rejected row with the reason; nothing is written until you confirm."),
    ]
