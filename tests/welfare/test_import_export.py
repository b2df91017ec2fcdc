from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from baogong.welfare import importer, services
from baogong.welfare.models import CheckIn, NeedCategory, SpecialCare

pytestmark = pytest.mark.django_db

HEADINGS = [
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "类别",
    "行动能力",
    "常用药品",
    "紧急联系电话",
    "送货上门",
    "回访周期",
]


def test_import_keeps_valid_rows_names_bad_ones_and_is_idempotent(tree, make_register, staff):
    resident = tree.household_a.residents.get()
    path = make_register(
        HEADINGS,
        [
            [
                "3号楼",
                "2",
                "502",
                resident.name,
                "独居老人、慢性病",
                "需搀扶",
                "降压药",
                "17000007777",
                "是",
                "2",
            ],
            ["3号楼", "2", "502", "不存在的人", "孕妇", "", "", "", "", ""],
            ["3号楼", "2", "502", resident.name, "宇航员", "", "", "", "", ""],
            ["3号楼", "2", "502", resident.name, "残疾人", "", "", "not a phone", "", ""],
        ],
        title="社区特殊群体台账",
    )
    data = path.read_bytes()
    report = importer.register_import(data, into=tree.community_a, by=staff)
    assert report.created == 1 and [e.line for e in report.errors] == [4, 5, 6]
    assert "not in the household register" in report.errors[0].reason
    assert "Unknown category" in report.errors[1].reason
    care = SpecialCare.objects.get()
    assert care.categories == ["elderly_alone", "chronic_illness"]
    assert care.cadence_days == 2 and care.mobility == "with_help"
    resident.refresh_from_db()
    assert resident.special_group and resident.needs_door_delivery
    history = care.history.count()
    again = importer.register_import(data, into=tree.community_a, by=staff)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert care.history.count() == history  # nothing rewritten


def test_import_page_refuses_other_communities(client, tree, staff, user_with_role):
    client.force_login(staff)
    assert client.get(reverse("welfare:import", args=[tree.community_a.pk])).status_code == 200
    assert client.get(reverse("welfare:import", args=[tree.community_b.pk])).status_code == 404
    response = client.post(
        reverse("welfare:import", args=[tree.community_a.pk]),
        {"file": io.BytesIO(b"not a workbook")},
    )
    assert response.status_code == 200  # a form error, never a 500


def test_import_template_reads_back(tree):
    rows = importer.read_rows(importer.template_bytes())
    assert rows[0][1]["name"] == "示例居民"


def test_export_as_of_a_past_date(client, tree, care, staff, volunteer):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with time_machine.travel(timezone.now() - dt.timedelta(days=5)):
        early = services.care_save(
            resident=tree.household_b.residents.get(),
            details=services.CareDetails(categories=["hardship"]),
            by=None,
        )
    services.checkin_record(
        care=care,
        outcome=CheckIn.Outcome.REACHED,
        wellbeing=CheckIn.Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.MILK, "牛奶", 2)],
    )
    client.force_login(staff)
    url = reverse("welfare:export", args=[tree.community_a.pk])

    def rows(query: str) -> list[tuple]:
        response = client.get(url + query)
        assert response.status_code == 200
        return list(
            load_workbook(io.BytesIO(response.content)).active.iter_rows(
                min_row=3, values_only=True
            )
        )

    assert [r[4] for r in rows("?list=people&personal=on")] == [care.resident.name]
    assert rows(f"?list=people&personal=on&as_of={yesterday}") == []  # not yet registered
    needs = rows("?list=needs&personal=on")
    assert needs[0][:3] == ("milk", "牛奶", 2) and needs[0][-1] == care.resident.name
    assert rows(f"?list=needs&as_of={yesterday}") == []
    anonymous = rows("?list=needs")
    assert care.resident.name not in anonymous[0] and len(anonymous[0]) == 8
    assert early.household_id == tree.household_b.pk  # other community: never in this export
