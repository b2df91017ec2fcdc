from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from baogong.areas.models import Household

HEADINGS = ["地址", "户主", "电话", "人数"]


@pytest.fixture(autouse=True)
def english():
    """Reasons in English, so the assertions below hold once Chinese translations exist."""
    with translation.override("en"):
        yield


def _run(*args: str) -> str:
    out = StringIO()
    call_command("import_households", *args, stdout=out)
    return out.getvalue()


def test_command_imports_and_prints_a_summary_with_each_rejected_row(tree, make_register):
    path = make_register(HEADINGS, [["3-1-101", "张三", "17000000001", 2],
                                    ["3-1-102", "李四", "bad", 2]], title="登记表")

    output = _run(str(path), "--into", str(tree.compound_a.pk))

    assert "1 created" in output and "1 rejected" in output
    assert "Row 4 (3-1-102)" in output and "bad" in output
    assert Household.objects.filter(room="101", building=tree.building_a).exists()


def test_command_dry_run_writes_nothing(tree, make_register):
    path = make_register(HEADINGS, [["3-1-101", "张三", "17000000001", 2]])
    before = Household.objects.count()

    output = _run(str(path), "--into", str(tree.compound_a.pk), "--dry-run")

    assert "Dry run" in output and "1 to create" in output
    assert Household.objects.count() == before


def test_command_json_lists_every_row(tree, make_register):
    path = make_register(HEADINGS, [["3-2-502", "", "", ""], ["3-1-101", "", "", ""],
                                    ["?", "", "", ""]])

    rows = json.loads(_run(str(path), "--into", str(tree.compound_a.pk), "--json"))["rows"]

    assert [(r["row"], r["outcome"]) for r in rows] == [
        (2, "unchanged"), (3, "created"), (4, "rejected")]
    assert rows[1]["address"] == "3号楼1单元101"
    assert rows[2]["reason"]


@pytest.mark.parametrize("problem", ["not a spreadsheet", "missing file", "unknown area"])
def test_command_fails_with_non_zero_exit_on_whole_file_errors(tree, tmp_path, problem):
    path = tmp_path / "x.xlsx"
    into = str(tree.compound_a.pk)
    if problem == "not a spreadsheet":
        path.write_bytes(b"\x00\x01\x02")
    elif problem == "unknown area":
        path.write_text("地址\n3-1-101\n")
        into = "999999"

    with pytest.raises(CommandError):
        _run(str(path), "--into", into)


def test_command_exit_status_in_a_shell(tree, tmp_path):
    from django.core.management import ManagementUtility

    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "import_households", str(path), "--into",
                           str(tree.compound_a.pk)]).execute()
    assert exit_.value.code != 0
