from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from openpyxl import Workbook

from baogong.accounts.models import Role, User
from baogong.areas.models import Area
from baogong.core.errors import NotAllowed
from baogong.supply import importer
from baogong.supply.importer import AssignmentFileError, AssignmentRow, Outcome
from baogong.supply.models import Supplier, SupplierArea
from tests.factories import make_area


@dataclass
class Places:
    wangzhai: Area
    chenan: Area
    square: Area
    jinxiu_chenan: Area
    jinxiu_square: Area
    hanjiang: Area
    staff: User


@pytest.fixture
def places(tree, user_with_role) -> Places:
    """王寨街道 (陈庵社区, 人民广场社区 — each with a 锦绣小区) and 汉江街道, in the district."""
    wangzhai = make_area(Area.Kind.STREET, tree.district, "王寨街道")
    chenan = make_area(Area.Kind.COMMUNITY, wangzhai, "陈庵社区")
    square = make_area(Area.Kind.COMMUNITY, wangzhai, "人民广场社区")
    jinxiu_chenan = make_area(Area.Kind.COMPOUND, chenan, "锦绣小区")
    jinxiu_square = make_area(Area.Kind.COMPOUND, square, "锦绣小区")
    hanjiang = make_area(Area.Kind.STREET, tree.district, "汉江街道")
    for name, kind in (
        ("武商超市", Supplier.Kind.SUPERMARKET),
        ("中百仓储", Supplier.Kind.SUPERMARKET),
        ("美团优选", Supplier.Kind.PLATFORM),
    ):
        Supplier.objects.create(name=name, kind=kind)
    staff = user_with_role(Role.STREET_STAFF, wangzhai)
    return Places(wangzhai, chenan, square, jinxiu_chenan, jinxiu_square, hanjiang, staff)


def xlsx(rows: list[list[object]], merge: list[str] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def by_row(report) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for result in report.results:
        found.setdefault(result.row, []).append((result.outcome, result.reason))
    return found


# --- reading ---------------------------------------------------------------------------


def test_read_finds_the_heading_under_a_title_and_fills_merged_cells():
    data = xlsx(
        [
            ["樊城区保供企业对应办事处名单"],
            ["序号", "保供单位（企业名称）", "对应街道（办事处）", "社区", "小区"],
            [1, "武商超市", "王寨街道", "陈庵社区", None],
            [2, None, "汉江街道", None, None],
            [None, None, None, None, None],
            [3, "中百仓储", "王寨办事处", None, None],
        ],
        merge=["A1:E1", "B3:B4"],
    )
    assert importer.read_assignments(data) == [
        AssignmentRow(3, "武商超市", "王寨街道", "陈庵社区", ""),
        AssignmentRow(4, "武商超市", "汉江街道", "", ""),
        AssignmentRow(6, "中百仓储", "王寨办事处", "", ""),
    ]


def test_read_accepts_english_headings_and_csv():
    data = "Supplier,Street office,Compound\n美团优选,王寨街道,锦绣小区\n".encode()
    assert importer.read_assignments(data) == [
        AssignmentRow(2, "美团优选", "王寨街道", "", "锦绣小区")
    ]


def test_read_accepts_gbk_csv():
    data = "供应商,街道\n武商超市,王寨街道\n".encode("gb18030")
    assert importer.read_assignments(data)[0].supplier == "武商超市"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"PK\x03\x04 broken zip", "could not be read"),
        (b"\x00\x01\x02\x03binary", "not a spreadsheet"),
        ("姓名,电话\n张三,138\n".encode(), "No heading row"),
        ("保供单位,街道\n".encode(), "no rows under it"),
    ],
)
def test_read_refuses_files_it_cannot_use(data, message):
    with pytest.raises(AssignmentFileError, match=message):
        importer.read_assignments(data)


def test_read_refuses_files_over_the_limit(settings):
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(AssignmentFileError, match="files up to"):
        importer.read_assignments(b"x" * 11)


def test_headings_people_write():
    assert importer.column_for_heading("对应街道（办事处）") == "street"
    assert importer.column_for_heading("保供单位名称") == "supplier"
    assert importer.column_for_heading("配送企业") == "supplier"
    assert importer.column_for_heading("所属社区") == "community"
    assert importer.column_for_heading("小区名称*") == "compound"
    assert importer.column_for_heading("电话") is None


# --- importing -------------------------------------------------------------------------


def test_import_adds_assignments_at_the_most_specific_level(places):
    rows = [
        AssignmentRow(2, "武商超市", "王寨街道"),
        AssignmentRow(3, "中百仓储", "王寨街道", "陈庵社区"),
        AssignmentRow(4, "美团优选", "王寨街道", "陈庵社区", "锦绣小区"),
    ]
    report = importer.assignment_import(rows, by=places.staff, dry_run=False)
    assert (report.added, report.rejected) == (3, 0)
    assert set(SupplierArea.objects.values_list("supplier__name", "area")) == {
        ("武商超市", places.wangzhai.pk),
        ("中百仓储", places.chenan.pk),
        ("美团优选", places.jinxiu_chenan.pk),
    }
    assignment = SupplierArea.objects.get(supplier__name="武商超市")
    assert assignment.assigned_by == places.staff
    assert assignment.history.get().history_user == places.staff


def test_import_understands_other_ways_of_writing_names(places):
    rows = [
        AssignmentRow(2, "武商 超市", "王寨街道办事处", "陈庵社区居委会"),
        AssignmentRow(3, "中百仓储", "王寨办事处", "人民广场"),
    ]
    report = importer.assignment_import(rows, by=places.staff, dry_run=False)
    assert report.added == 2, report.results
    assert set(SupplierArea.objects.values_list("area", flat=True)) == {
        places.chenan.pk,
        places.square.pk,
    }


def test_a_cell_may_name_several_areas(places, user_with_role, tree):
    admin = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    rows = [AssignmentRow(2, "武商超市", "王寨街道、汉江街道")]
    report = importer.assignment_import(rows, by=admin, dry_run=False)
    assert report.added == 2
    assert {r.area for r in report.results} == {"王寨街道", "汉江街道"}


def test_bad_rows_are_reported_with_reasons_and_good_rows_kept(places):
    rows = [
        AssignmentRow(2, "武商超市", "王寨街道"),
        AssignmentRow(3, "武商超币", "王寨街道"),
        AssignmentRow(4, "无名商店", "王寨街道"),
        AssignmentRow(5, "", "王寨街道"),
        AssignmentRow(6, "中百仓储", ""),
        AssignmentRow(7, "中百仓储", "不存在街道"),
        AssignmentRow(8, "中百仓储", "汉江街道"),
        AssignmentRow(9, "中百仓储", "", "", "锦绣小区"),
        AssignmentRow(10, "中百仓储", "王寨街道", "陈庵社区", "不存在小区"),
        AssignmentRow(11, "中百仓储", "王寨街道、汉江街道", "陈庵社区"),
        AssignmentRow(12, "武商超市", "王寨街道"),
    ]
    report = importer.assignment_import(rows, by=places.staff, dry_run=False)
    rows_out = by_row(report)
    assert rows_out[2] == [(Outcome.ADDED, "")]
    reasons = {row: outcomes[0][1] for row, outcomes in rows_out.items()}
    assert "Did you mean “武商超市”" in reasons[3]
    assert "Register it on the suppliers page" in reasons[4]
    assert "supplier is missing" in reasons[5]
    assert "No street office, community or compound" in reasons[6]
    assert "no street office named “不存在街道”" in reasons[7]
    assert "outside your area" in reasons[8]
    assert "names several places" in reasons[9] and "陈庵社区" in reasons[9]
    assert "no compound “不存在小区” in 陈庵社区" in reasons[10]
    assert "one row for each" in reasons[11]
    assert rows_out[12] == [(Outcome.SKIPPED, "Same as row 2 of this file.")]
    assert report.rejected == 9
    assert list(SupplierArea.objects.values_list("supplier__name", flat=True)) == ["武商超市"]


def test_inactive_suppliers_are_rejected(places):
    Supplier.objects.filter(name="美团优选").update(is_active=False)
    report = importer.assignment_import(
        [AssignmentRow(2, "美团优选", "王寨街道")], by=places.staff, dry_run=False
    )
    assert "no longer active" in report.results[0].reason
    assert not SupplierArea.objects.exists()


def test_importing_twice_adds_nothing(places):
    rows = [AssignmentRow(2, "武商超市", "王寨街道"), AssignmentRow(3, "中百仓储", "王寨街道")]
    first = importer.assignment_import(rows, by=places.staff, dry_run=False)
    second = importer.assignment_import(rows, by=places.staff, dry_run=False)
    assert (first.added, second.added, second.existing) == (2, 0, 2)
    assert SupplierArea.objects.count() == 2
    assert SupplierArea.history.count() == 2


def test_dry_run_writes_nothing_and_says_what_would_happen(places):
    SupplierArea.objects.create(
        supplier=Supplier.objects.get(name="中百仓储"), area=places.wangzhai
    )
    rows = [
        AssignmentRow(2, "武商超市", "王寨街道"),
        AssignmentRow(3, "中百仓储", "王寨街道"),
        AssignmentRow(4, "无名", "王寨街道"),
    ]
    report = importer.assignment_import(rows, by=places.staff, dry_run=True)
    assert (report.dry_run, report.added, report.existing, report.rejected) == (True, 1, 1, 1)
    assert SupplierArea.objects.count() == 1


def test_only_street_staff_and_district_admins_import(places, user_with_role):
    liaison = user_with_role(Role.COMMUNITY_STAFF, places.chenan)
    with pytest.raises(NotAllowed):
        importer.assignment_import(
            [AssignmentRow(2, "武商超市", "王寨街道")], by=liaison, dry_run=True
        )


def test_the_template_reads_back_and_imports_cleanly(places):
    data = importer.template_workbook([AssignmentRow(0, "武商超市", "王寨街道", "陈庵社区")])
    rows = importer.read_assignments(data)
    assert rows == [AssignmentRow(2, "武商超市", "王寨街道", "陈庵社区", "")]
    assert importer.assignment_import(rows, by=places.staff, dry_run=True).added == 1


def test_a_spreadsheet_from_end_to_end(places):
    data = xlsx(
        [
            ["保供单位", "街道", "社区", "小区"],
            ["武商超市", "王寨街道", "陈庵社区", "锦绣小区"],
            ["美团优选", "王寨街道", "人民广场社区", "锦绣小区"],
        ]
    )
    report = importer.assignment_import(
        importer.read_assignments(data), by=places.staff, dry_run=False
    )
    assert report.added == 2
    assert set(SupplierArea.objects.values_list("area", flat=True)) == {
        places.jinxiu_chenan.pk,
        places.jinxiu_square.pk,
    }
