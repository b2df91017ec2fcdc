from __future__ import annotations

import pytest
from django.utils import translation

from baogong.accounts.models import Role
from baogong.areas.addresses import parse_address
from baogong.areas.importer import (
    Outcome,
    RegisterFileError,
    fast_parse_address,
    field_for_heading,
    read_register,
    register_import,
)
from baogong.areas.models import Area, Containment, Household, Resident
from baogong.core.errors import NotAllowed
from tests.factories import ResidentFactory, make_area

HEADINGS = ["地址", "户主", "电话", "人数", "管控状态", "备注"]


@pytest.fixture(autouse=True)
def english():
    """Reasons in English, so the assertions below hold once Chinese translations exist."""
    with translation.override("en"):
        yield


def _import(path, area, by=None, **kwargs):
    return register_import(path.read_bytes(), filename=path.name, into=area, by=by, **kwargs)


def _db_counts() -> dict[str, int]:
    return {
        "areas": Area.objects.count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "household_history": Household.history.count(),
        "resident_history": Resident.history.count(),
        "area_history": Area.history.count(),
    }


def _by_row(report):
    return {row.row: row for row in report.rows}


# --- addresses and headings -------------------------------------------------------

@pytest.mark.parametrize(
    ("written", "building", "unit", "room"),
    [
        ("3号楼2单元502", "3号楼", "2", "502"),
        ("3号楼2单元502室", "3号楼", "2", "502"),
        ("3栋502", "3号楼", "", "502"),
        ("5-2-502", "5号楼", "2", "502"),
        ("5#2-502", "5号楼", "2", "502"),
        ("B座1203", "B座", "", "1203"),
        ("三号楼二单元502", "3号楼", "2", "502"),
        ("3幢2单元502", "3号楼", "2", "502"),
        ("小区a3号楼2单元601", "3号楼", "2", "601"),
        ("幸福路12号7栋2单元301", "7号楼", "2", "301"),
    ],
)
def test_import_reads_every_written_address_form(tree, make_register, written, building, unit,
                                                   room):
    path = make_register(HEADINGS, [[written, "张三", "17000000001", 3, "", ""]])

    report = _import(path, tree.compound_a)

    assert report.counts["rejected"] == 0, report.rows[0].reason
    household = Household.objects.get(compound=tree.compound_a, unit=unit, room=room,
                                       building__name=building)
    assert household.phone == "17000000001"
    assert household.members_count == 3


def test_import_reads_separate_building_unit_and_room_columns(tree, make_register):
    path = make_register(["楼栋", "单元", "房号", "姓名", "手机号", "家庭人数"],
                         [[3, 1, 301, "李四", 17000000002, 2],  # numbers, as Excel keeps them
                          ["3栋", "二单元", "601室", "王五", "170 0000 0003", "4人"],
                          ["12", "", "0101", "", "", ""]])

    report = _import(path, tree.compound_a)

    assert report.counts == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    # "3" and "3栋" find the existing building named 3号楼; "12" makes a new one.
    assert Household.objects.filter(building=tree.building_a).count() == 3
    assert Household.objects.get(building=tree.building_a, unit="2", room="601").phone \
        == "17000000003"
    new_building = Area.objects.get(parent=tree.compound_a, name="12号楼")
    assert new_building.kind == Area.Kind.BUILDING
    assert new_building.path == f"{tree.compound_a.path}{new_building.pk}/"
    assert Household.objects.get(building=new_building).room == "0101"


@pytest.mark.parametrize("text", ["3号楼2单元502", "3号楼2单元502室", "12栋1单元1203",
                                  "5-2-502", "5#2-502", "3栋502", "3号502", "3#502", "3楼502",
                                  "03号楼02单元0502", "3幢502室", "B座1203", "3号楼2-502",
                                  "5-502", "三号楼二单元502", "十二栋三单元1203", "十号楼502",
                                  "二十一号楼一单元101", "十五栋502室"])
def test_fast_address_reading_agrees_with_parse_address(text):
    fast = fast_parse_address(text)
    if fast is not None:
        assert fast == parse_address(text)


@pytest.mark.parametrize("text", ["3号楼2单元502", "5-2-502", "5#2-502", "3栋502室",
                                  "三号楼二单元502", "十二栋1单元1203"])
def test_common_forms_take_the_fast_path(text):
    assert fast_parse_address(text) is not None


@pytest.mark.parametrize(("heading", "field"), [
    ("楼号", "building"), ("楼栋号", "building"), ("门牌号", "room"), ("室", "room"),
    ("住址", "address"), ("联系人", "name"), ("户主姓名", "name"), ("联系电话", "phone"),
    ("手机号", "phone"), ("备用电话", "phone_alt"), ("备用联系电话", "phone_alt"),
    ("常住人数", "members"), ("管控状态", "containment"), ("电话（必填）", "phone"),
    ("Phone", "phone"), ("Room number", "room"), ("序号", None), ("身份证号", None),
])
def test_headings_are_recognised_in_chinese_and_english(heading, field):
    assert field_for_heading(heading) == field


def test_heading_row_is_found_below_a_title(tree, make_register):
    path = make_register(["序号", "楼栋", "单元", "房号", "户主"], [[1, "3号楼", 1, 101, "赵六"]],
                         title="小区a住户登记表（2022年4月）")

    sheet = read_register(path.read_bytes())
    report = _import(path, tree.compound_a)

    assert sheet.header_row == 2
    assert [(row.row, row.outcome) for row in report.rows] == [(3, Outcome.CREATED)]


def test_english_headings_are_accepted(tree, make_register):
    path = make_register(["Address", "Name", "Phone", "Members", "Containment"],
                         [["3-1-201", "Zhang San", "17000000004", 2, "sealed"]])

    _import(path, tree.compound_a)

    household = Household.objects.get(building=tree.building_a, unit="1", room="201")
    assert household.containment == Containment.SEALED
    assert household.residents.get().name == "Zhang San"


def test_a_heading_row_below_the_first_ten_rows_is_not_found(tree, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    for _ in range(10):
        workbook.active.append(["说明"])
    workbook.active.append(["地址", "户主"])
    workbook.active.append(["3-1-201", "张三"])
    workbook.save(tmp_path / "late.xlsx")

    with pytest.raises(RegisterFileError) as error:
        _import(tmp_path / "late.xlsx", tree.compound_a)
    assert "楼栋" in error.value.message and "地址" in error.value.message


# --- CSV ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_in_chinese_excel_encodings(tree, encoding):
    text = "小区a住户表\r\n楼栋,单元,房号,户主,电话\r\n3号楼,1,102,钱七,17000000005\r\n"

    report = register_import(text.encode(encoding), filename="r.csv", into=tree.compound_a,
                             by=None)

    assert report.counts["created"] == 1
    assert Resident.objects.get(name="钱七").phone == "17000000005"


def test_tab_separated_unicode_text_from_excel(tree):
    text = "地址\t户主\n3-1-103\t孙八\n"

    report = register_import(text.encode("utf-16"), filename="r.txt", into=tree.compound_a,
                             by=None)

    assert report.counts["created"] == 1


# --- rejected rows ------------------------------------------------------------------

def test_each_bad_row_is_rejected_with_its_excel_row_and_reason(tree, make_register):
    rows = [
        ["3-1-101", "好人", "17000000011", 2, "封控区", ""],  # row 3: fine
        ["楼下小卖部", "甲", "17000000012", 2, "", ""],  # row 4: bad address
        ["3-1-102", "乙", "12345", 2, "", ""],  # row 5: bad phone
        ["3-1-103", "丙", "17000000013", "两三个", "", ""],  # row 6: members not a number
        ["3-1-104", "丁", "17000000014", 0, "", ""],  # row 7: members out of range
        ["3-1-105", "戊", "17000000015", 2, "隔离", ""],  # row 8: unknown containment
        ["3-1-101", "己", "17000000016", 2, "", ""],  # row 9: same flat as row 3
        ["", "庚", "17000000017", 2, "", ""],  # row 10: no address
        ["3-1-106", "名" * 60, "17000000018", 2, "", ""],  # row 11: name too long
        ["3-1-107", "辛", "17000000019", 2.5, "", ""],  # row 12: members not whole
    ]
    path = make_register(HEADINGS, rows, title="登记表")

    report = _import(path, tree.compound_a)
    rows_by_number = _by_row(report)

    assert rows_by_number[3].outcome == Outcome.CREATED
    rejected = {n: r.reason for n, r in rows_by_number.items() if r.outcome == Outcome.REJECTED}
    assert set(rejected) == {4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert "楼下小卖部" in rejected[4]
    assert "12345" in rejected[5]
    assert "两三个" in rejected[6]
    assert "between 1 and" in rejected[7]
    assert "隔离" in rejected[8]
    assert "row 3" in rejected[9]
    assert "missing" in rejected[10]
    assert "50" in rejected[11]
    assert "2.5" in rejected[12]
    # The valid row was written regardless.
    assert Household.objects.get(building=tree.building_a, unit="1", room="101").containment \
        == Containment.SEALED


def test_a_bad_second_phone_is_rejected(tree, make_register):
    path = make_register(["地址", "电话", "备用电话"], [["3-1-101", "17000000001", "110"]])

    (row,) = _import(path, tree.compound_a).rows

    assert row.outcome == Outcome.REJECTED and "second phone" in row.reason


def test_same_named_compounds_need_a_community_column(tree, make_register):
    make_area(Area.Kind.COMPOUND, tree.community_b, "小区a")  # same name, other community
    plain = make_register(["小区", "地址"], [["小区a", "3-1-101"]])
    with_community = make_register(["社区", "小区", "地址"], [["社区b", "小区a", "3-1-101"]])

    (ambiguous,) = _import(plain, tree.district).rows
    (found,) = _import(with_community, tree.district).rows

    assert ambiguous.outcome == Outcome.REJECTED and "社区" in ambiguous.reason
    assert found.outcome == Outcome.CREATED
    assert Household.objects.get(room="101").compound.parent == tree.community_b


def test_rejected_rows_do_not_block_valid_ones(tree, make_register):
    path = make_register(HEADINGS, [["nonsense", "", "", "", "", ""],
                                    ["3-1-301", "周九", "17000000020", 1, "", ""]])

    report = _import(path, tree.compound_a)

    assert report.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert Household.objects.filter(room="301").exists()


def test_a_row_for_another_compound_is_rejected(tree, make_register):
    path = make_register(["小区", "地址"], [["小区b", "3-1-101"], ["小区a", "3-1-102"]])

    report = _import(path, tree.compound_a)

    assert [r.outcome for r in report.rows] == [Outcome.REJECTED, Outcome.CREATED]
    assert "小区b" in report.rows[0].reason


# --- whole-file problems ---------------------------------------------------------------

@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a spreadsheet"),
    (b"PK\x03\x04broken zip", "could not be read"),
    ("今天天气很好\n我们去公园\n".encode(), "No heading row"),
])
def test_whole_file_problems_raise_one_clear_error(tree, data, words):
    with pytest.raises(RegisterFileError) as error:
        register_import(data, filename="x.xlsx", into=tree.compound_a, by=None)
    assert words in error.value.message


def test_headings_without_rows_is_an_error(tree, make_register):
    with pytest.raises(RegisterFileError, match="no households"):
        _import(make_register(HEADINGS, []), tree.compound_a)


def test_a_file_over_the_size_limit_is_refused(tree, make_register, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(RegisterFileError, match="files up to"):
        register_import(b"x" * 1001, filename="big.csv", into=tree.compound_a, by=None)


def test_a_community_import_needs_a_compound_column(tree, make_register):
    with pytest.raises(RegisterFileError, match="小区"):
        _import(make_register(HEADINGS, [["3-1-101", "", "", "", "", ""]]), tree.community_a)


def test_whole_file_error_writes_nothing(tree):
    before = _db_counts()
    with pytest.raises(RegisterFileError):
        register_import(b"\x00\x01", filename="x.csv", into=tree.compound_a, by=None)
    assert _db_counts() == before


# --- idempotence, updates, dry run, history ----------------------------------------

def test_importing_the_same_file_twice_changes_nothing_the_second_time(tree, make_register):
    rows = [[f"3-{u}-{f}0{d}", f"住户{u}{f}{d}", f"170000{u}{f}{d:03d}"[:11], 2, "防范区", ""]
            for u in (1, 2) for f in (1, 2, 3) for d in (1, 2)]
    path = make_register(HEADINGS, rows)

    first = _import(path, tree.compound_a)
    after_first = _db_counts()
    second = _import(path, tree.compound_a)

    assert first.counts["created"] == 12
    assert second.counts == {"created": 0, "updated": 0, "unchanged": 12, "rejected": 0}
    assert _db_counts() == after_first


def test_changed_rows_are_updated_with_the_fields_that_changed(tree, make_register, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    household = tree.household_a  # 3号楼 2单元 502, 2 members
    contact = household.residents.get()
    path = make_register(["楼栋", "单元", "房号", "户主", "电话", "人数", "管控状态"],
                         [["3号楼", 2, 502, contact.name, "17099990000", 5, "管控区"]])

    report = _import(path, tree.compound_a, by=staff)

    (row,) = report.rows
    assert row.outcome == Outcome.UPDATED
    assert row.changes == ["members_count", "phone", "containment", "contact_phone"]
    household.refresh_from_db()
    assert (household.members_count, household.phone, household.containment) == (
        5, "17099990000", Containment.CONTROLLED)
    latest = household.history.first()
    assert (latest.history_type, latest.history_user, latest.members_count) == ("~", staff, 5)
    assert "Register import" in latest.history_change_reason
    assert contact.history.first().phone == "17099990000"
    assert report.residents_updated == 1


def test_empty_cells_keep_what_the_register_holds(tree, make_register):
    household = tree.household_a
    path = make_register(["楼栋", "单元", "房号", "电话", "人数", "备注"],
                         [["3号楼", 2, 502, "", "", ""]])

    report = _import(path, tree.compound_a)

    assert report.rows[0].outcome == Outcome.UNCHANGED
    household.refresh_from_db()
    assert household.phone and household.members_count == 2


def test_a_new_name_adds_a_contact_resident(tree, make_register):
    path = make_register(["楼栋", "单元", "房号", "户主", "电话"],
                         [["3号楼", 2, 502, "新户主", "17000000030"]])

    report = _import(path, tree.compound_a)

    assert report.rows[0].changes == ["phone", "contact"]
    resident = tree.household_a.residents.get(name="新户主")
    assert resident.is_contact and resident.phone == "17000000030"


def test_dry_run_reports_everything_and_writes_nothing(tree, make_register):
    path = make_register(["小区", "地址", "户主", "电话"],
                         [["小区a", "3-2-502", "张三", "17000000040"],
                          ["新小区", "1-1-101", "李四", "17000000041"],
                          ["小区a", "bad", "", ""]])
    before = _db_counts()

    report = _import(path, tree.community_a, dry_run=True)

    assert report.dry_run
    assert report.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert report.compounds_created == ["新小区"]
    assert report.buildings_created == ["新小区 1号楼"]
    assert _db_counts() == before


def test_history_rows_are_written_for_everything_created(tree, make_register, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    path = make_register(HEADINGS, [["9-1-101", "吴一", "17000000050", 1, "", ""],
                                    ["9-1-102", "", "17000000051", 1, "", ""]],
                         name="四月名单.xlsx")

    _import(path, tree.compound_a, by=staff)

    households = Household.objects.filter(building__name="9号楼")
    assert households.count() == 2
    for household in households:
        (record,) = household.history.all()
        assert (record.history_type, record.history_user) == ("+", staff)
        assert record.history_change_reason == "Register import: 四月名单.xlsx"
    resident = Resident.objects.get(name="吴一")
    assert resident.history.get().history_user == staff
    building = Area.objects.get(name="9号楼")
    assert building.history.get().history_user == staff


# --- targets above a compound ----------------------------------------------------------

def test_community_import_matches_and_creates_compounds(tree, make_register):
    path = make_register(["小区", "楼号", "单元", "门牌号", "联系人"],
                         [["小区a", "3", "1", "201", "甲"],
                          ["阳光花园", "1", "1", "101", "乙"],
                          ["阳光花园", "1", "2", "101", "丙"]])

    report = _import(path, tree.community_a)

    assert report.counts["created"] == 3
    sunshine = Area.objects.get(parent=tree.community_a, name="阳光花园")
    assert sunshine.kind == Area.Kind.COMPOUND
    building = Area.objects.get(parent=sunshine)
    assert building.name == "1号楼"
    assert Household.objects.filter(compound=sunshine).count() == 2
    assert report.rows[1].address == "阳光花园 1号楼1单元101"


def test_street_import_rejects_unknown_compounds_unless_a_community_is_named(tree,
                                                                             make_register):
    path = make_register(["社区", "小区", "地址"],
                         [["", "小区a", "3-1-101"],
                          ["", "无名小区", "1-1-101"],
                          ["社区a", "新建小区", "1-1-101"]])

    report = _import(path, tree.street_a)

    assert [r.outcome for r in report.rows] == [Outcome.CREATED, Outcome.REJECTED,
                                                Outcome.CREATED]
    assert "无名小区" in report.rows[1].reason
    assert Area.objects.filter(parent=tree.community_a, name="新建小区").exists()


def test_resident_and_household_natural_keys_hold_across_imports(tree, make_register):
    ResidentFactory(household=tree.household_a, name="老住户", is_contact=False)
    path = make_register(["楼栋", "单元", "房号", "户主"], [["3号楼", 2, 502, "老住户"]])

    report = _import(path, tree.compound_a)

    assert report.rows[0].changes == ["contact"]
    assert tree.household_a.residents.get(name="老住户").is_contact


# --- permissions ----------------------------------------------------------------------

@pytest.mark.parametrize(("role", "where", "allowed"), [
    (Role.COMMUNITY_STAFF, "community_a", True),  # owner of the subtree
    (Role.DISTRICT_ADMIN, "district", True),
    (Role.COMMUNITY_STAFF, "community_b", False),  # a role elsewhere in the tree
    (Role.LIAISON, "compound_a", False),  # sees the compound but does not keep the register
])
def test_only_register_keepers_of_the_area_may_import(tree, make_register, user_with_role, role,
                                                      where, allowed):
    user = user_with_role(role, getattr(tree, where))
    path = make_register(HEADINGS, [["3-1-101", "", "", "", "", ""]])
    before = _db_counts()

    if allowed:
        assert _import(path, tree.compound_a, by=user).counts["created"] == 1
    else:
        with pytest.raises(NotAllowed):
            _import(path, tree.compound_a, by=user)
        assert _db_counts() == before


def test_a_stranger_may_not_import(tree, make_register):
    from tests.factories import UserFactory

    with pytest.raises(NotAllowed):
        _import(make_register(HEADINGS, [["3-1-101", "", "", "", "", ""]]), tree.compound_a,
                by=UserFactory())


def test_a_building_is_not_an_import_target(tree, make_register):
    from baogong.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        _import(make_register(HEADINGS, [["3-1-101", "", "", "", "", ""]]), tree.building_a)


def test_rural_compounds_give_their_buildings_the_rural_flag(db, make_register):
    district = make_area(Area.Kind.DISTRICT, None, "襄州区")
    township = make_area(Area.Kind.STREET, district, "张湾镇", rural=True)
    village = make_area(Area.Kind.COMMUNITY, township, "王庄村")
    path = make_register(["小区", "地址"], [["一组", "1-1-101"]])

    register_import(path.read_bytes(), filename="v.xlsx", into=village, by=None)

    group = Area.objects.get(name="一组")
    assert group.rural and Area.objects.get(parent=group).rural


def test_reading_limits_match_the_model_columns():
    from baogong.areas.importer import reading

    assert Area._meta.get_field("name").max_length == reading.AREA_NAME_MAX
    assert Resident._meta.get_field("name").max_length == reading.NAME_MAX
    assert Household._meta.get_field("notes").max_length == reading.NOTES_MAX
    assert set(reading.CONTAINMENT_WORDS.values()) == set(Containment.values)


def test_reading_does_not_import_the_orm():
    import ast
    from pathlib import Path

    from baogong.areas.importer import reading

    tree = ast.parse(Path(reading.__file__).read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert not [m for m in modules if m.endswith(".models") or m.startswith("django.db")]


# --- chunked writing ---------------------------------------------------------------

def test_chunks_written_by_the_writer_thread_add_up(tree, make_register, monkeypatch,
                                                    user_with_role):
    from baogong.areas.importer import service

    monkeypatch.setattr(service, "CHUNK_ROWS", 2)
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    rows = [[f"8-1-{n}01", f"住户{n}", f"1700000{n:04d}", 2, "", ""] for n in range(1, 6)]
    rows.insert(2, ["bad", "", "", "", "", ""])
    path = make_register(HEADINGS, rows)

    report = _import(path, tree.compound_a, by=staff)

    assert report.counts == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 1}
    assert report.buildings_created == ["小区a 8号楼"]  # planned once, used by every chunk
    building = Area.objects.get(parent=tree.compound_a, name="8号楼")
    assert building.households.count() == 5
    assert Resident.objects.filter(household__building=building).count() == 5
    assert Household.history.filter(building_id=building.pk, history_user=staff).count() == 5
    assert _import(path, tree.compound_a, by=staff).counts["unchanged"] == 5


def test_a_failed_chunk_rolls_back_the_chunks_before_it(tree, make_register, monkeypatch):
    from django.db import IntegrityError

    from baogong.areas.importer import service
    from baogong.core.errors import Conflict

    monkeypatch.setattr(service, "CHUNK_ROWS", 2)
    real_write = service._write
    calls = []

    def write_then_fail(plan, **kwargs):
        calls.append(plan)
        if len(calls) == 2:
            raise IntegrityError("someone added the same flat meanwhile")
        real_write(plan, **kwargs)

    monkeypatch.setattr(service, "_write", write_then_fail)
    path = make_register(HEADINGS, [[f"8-1-{n}01", f"住户{n}", "", 2, "", ""]
                                    for n in range(1, 6)])
    before = _db_counts()

    with pytest.raises(Conflict):
        _import(path, tree.compound_a)

    assert _db_counts() == before
