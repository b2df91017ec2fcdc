"""manage.py import_chain ROUND_ID FILE [--dry-run] [--json] [--as PHONE]."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from baogong.accounts.models import Role
from baogong.orders.models import Order
from tests.factories import HouseholdFactory


@pytest.fixture(autouse=True)
def english():
    """Assert on the English texts whatever translations exist."""
    with translation.override("en"):
        yield


CHAIN = "#接龙\n1. 3号楼2单元502 张阿姨 A套餐×2\n2、3-2-503 李四 两份A\n3. 9-9-909 王 A\n4. +1\n"


@pytest.fixture
def chain_file(tmp_path, tree):
    HouseholdFactory(building=tree.building_a, unit="2", room="503")
    path = tmp_path / "chain.txt"
    path.write_text(CHAIN, encoding="utf-8")
    return path


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    call_command("import_chain", *map(str, args), stdout=out)
    return out.getvalue()


def test_dry_run_json_prints_every_line_and_writes_nothing(open_round, chain_file):
    data = json.loads(run(open_round.pk, chain_file, "--dry-run", "--json"))
    assert data["dry_run"] is True and data["saved"] is None
    lines = {line["line"]: line for line in data["lines"]}
    assert sorted(lines) == [1, 2, 3, 4, 5]
    assert lines[1]["status"] == "ignored" and lines[1]["codes"] == ["header"]
    assert lines[2]["status"] == "matched"
    assert lines[2]["address"] == {"building": "3", "unit": "2", "room": "502"}
    assert lines[2]["items"][0]["code"] == "A" and lines[2]["items"][0]["quantity"] == 2
    assert lines[2]["household"]["address"].endswith("3号楼2单元502")
    assert lines[2]["amount"] == "176.00"
    assert lines[4]["status"] == "unmatched" and lines[4]["codes"] == ["no_household"]
    assert "9-9-909" in lines[4]["reason"]
    assert lines[5]["codes"] == ["chatter"]
    assert data["counts"] == {"ignored": 2, "matched": 2, "unmatched": 1}
    assert not Order.objects.exists()


def test_committing_needs_a_staff_user(open_round, chain_file):
    with pytest.raises(CommandError, match="--as"):
        run(open_round.pk, chain_file)
    assert not Order.objects.exists()


def test_commit_as_the_liaison_then_again_changes_nothing(
    open_round, chain_file, tree, user_with_role
):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    data = json.loads(run(open_round.pk, chain_file, "--json", "--as", liaison.phone))
    assert data["saved"] == {"created": 2}
    outcomes = {line["line"]: line["outcome"] for line in data["lines"]}
    assert outcomes == {1: None, 2: "created", 3: "created", 4: None, 5: None}
    assert set(Order.objects.values_list("channel", "entered_by")) == {
        (Order.Channel.CHAIN, liaison.pk)
    }
    before = list(Order.objects.values_list("pk", "updated_at"))
    again = json.loads(run(open_round.pk, chain_file, "--json", "--as", liaison.phone))
    assert again["saved"] == {"unchanged": 2}
    assert list(Order.objects.values_list("pk", "updated_at")) == before


def test_plain_output_summarises(open_round, chain_file, tree, user_with_role):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    out = run(open_round.pk, chain_file, "--as", liaison.phone)
    assert "created" in out and "Saved: created 2." in out
    assert "9-9-909" in out or "unmatched" in out
    assert "Dry run" in run(open_round.pk, chain_file, "--dry-run")


def test_someone_elsewhere_may_not_import(open_round, chain_file, tree, user_with_role):
    outsider = user_with_role(Role.LIAISON, tree.compound_b)
    with pytest.raises(CommandError, match="may not"):
        run(open_round.pk, chain_file, "--as", outsider.phone)
    assert not Order.objects.exists()


def test_unknown_round_user_or_file(open_round, chain_file, tmp_path):
    with pytest.raises(CommandError, match="No round"):
        run(99999, chain_file, "--dry-run")
    with pytest.raises(CommandError, match="No active user"):
        run(open_round.pk, chain_file, "--as", "13999999999")
    with pytest.raises(CommandError, match="Cannot read"):
        run(open_round.pk, tmp_path / "missing.txt", "--dry-run")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\xfa\x00\x81")
    with pytest.raises(CommandError):
        run(open_round.pk, binary, "--dry-run")


def test_reads_standard_input_and_gb18030(open_round, chain_file, tmp_path, monkeypatch):
    data = json.loads(
        run(open_round.pk, "-", "--dry-run", "--json", stdin=CHAIN, monkeypatch=monkeypatch)
    )
    assert data["counts"]["matched"] == 2
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(CHAIN.encode("gb18030"))
    assert json.loads(run(open_round.pk, gbk, "--dry-run", "--json"))["counts"]["matched"] == 2
