"""Spreadsheet upload of orders: template, upload, preview, commit; who may use it."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from baogong.accounts.models import Role
from baogong.orders.models import Offer, Order, OrderLine
from tests.factories import HouseholdFactory, UserFactory


@pytest.fixture
def client(client):
    """English pages, whatever translations exist."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def neighbour(tree):
    return HouseholdFactory(building=tree.building_a, unit="2", room="503")


@pytest.fixture
def liaison(tree, user_with_role):
    return user_with_role(Role.LIAISON, tree.compound_a)


@pytest.fixture
def url(open_round):
    return reverse("orders:excel_upload", args=[open_round.pk])


@pytest.fixture
def template_url(open_round):
    return reverse("orders:excel_template", args=[open_round.pk])


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SHEET = [
    ["楼栋", "单元", "房号", "联系电话", "A 米面粮油套餐", "B 蔬菜套餐", "备注"],
    ["3号楼", "2", "502", "", 2, "", "放门口"],
    ["3号楼", "2", "503", "", "", 1, ""],
    ["9号楼", "9", "909", "", 1, "", ""],
]


def upload(client, url, data: bytes, name="orders.xlsx", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        url, {"file": SimpleUploadedFile(name, data, content_type=XLSX)}, headers=headers
    )


def commit(client, url, response, keep):
    payload = response.context["payload"]
    return client.post(
        url, {"action": "commit", "payload": payload, "keep": [str(k) for k in keep]}
    )


def written(round_):
    return (Order.objects.filter(round=round_).count(), OrderLine.objects.count())


# --- who may use it ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, url, template_url):
    for target in (url, template_url):
        response = client.get(target)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_a_stranger_gets_nothing(client, url, template_url, open_round):
    client.force_login(UserFactory())
    assert client.get(url).status_code in (403, 404)
    assert client.get(template_url).status_code in (403, 404)
    assert upload(client, url, xlsx(SHEET)).status_code in (403, 404)
    assert written(open_round) == (0, 0)


def test_a_liaison_elsewhere_gets_nothing(client, url, template_url, tree, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert client.get(url).status_code in (403, 404)
    assert client.get(template_url).status_code in (403, 404)


def test_the_supplier_may_not_upload_orders(client, url, supplier, user_with_role, open_round):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert client.get(url).status_code == 403
    assert upload(client, url, xlsx(SHEET)).status_code == 403
    assert written(open_round) == (0, 0)


def test_the_liaison_gets_the_upload_form(client, url, liaison):
    client.force_login(liaison)
    html = client.get(url).content.decode()
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert reverse("orders:excel_template", args=[url.split("/")[2]]) in html


# --- template ---------------------------------------------------------------------------------


def test_the_template_lists_only_the_users_households(
    client, template_url, tree, liaison, neighbour, user_with_role
):
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    response = client.get(template_url)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("楼栋", "单元", "房号", "联系电话", "A 米面粮油套餐", "B 蔬菜套餐", "备注")
    assert sorted(r[:3] for r in rows[1:]) == [("3号楼", "2", "502"), ("3号楼", "2", "503")]


def test_a_filled_template_round_trips(client, url, template_url, liaison, neighbour, open_round):
    client.force_login(liaison)
    workbook = load_workbook(io.BytesIO(client.get(template_url).content))
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if (row[0].value, row[1].value, row[2].value) == ("3号楼", "2", "503"):
            row[5].value = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(client, url, buffer.getvalue())
    preview = response.context["preview"]
    assert [(row.status, row.household.pk) for row in preview.rows] == [("matched", neighbour.pk)]
    assert preview.skipped == 1  # household_a's row was left empty


# --- upload, preview, commit ------------------------------------------------------------------


def test_upload_previews_with_excel_row_numbers_and_writes_nothing(
    client, url, liaison, neighbour, open_round
):
    client.force_login(liaison)
    response = upload(client, url, xlsx([["第1期"], *SHEET]))
    assert response.status_code == 200
    rows = {row.number: str(row.status) for row in response.context["preview"].rows}
    assert rows == {3: "matched", 4: "matched", 5: "unmatched"}
    html = response.content.decode()
    assert "Row" in html and "9号楼" in html and "No household at" in html
    assert written(open_round) == (0, 0)


def test_htmx_upload_returns_the_region_only(client, url, liaison, neighbour):
    client.force_login(liaison)
    html = upload(client, url, xlsx(SHEET), htmx=True).content.decode()
    assert "<html" not in html and 'hx-swap-oob="true"' in html


def test_commit_saves_excel_orders_and_a_second_upload_changes_nothing(
    client, url, liaison, neighbour, open_round
):
    client.force_login(liaison)
    response = commit(client, url, upload(client, url, xlsx(SHEET)), keep=[2, 3])
    assert response.context["report"].counts == {"created": 2}
    orders = Order.objects.filter(round=open_round)
    assert set(orders.values_list("channel", "entered_by")) == {(Order.Channel.EXCEL, liaison.pk)}
    assert orders.get(household__room="502").note == "放门口"
    before = list(orders.values_list("pk", "updated_at"))
    again = upload(client, url, xlsx(SHEET))
    assert again.context["preview"].keepable_count == 0
    response = commit(client, url, again, keep=[])
    assert response.context["report"].counts == {"unchanged": 2}
    assert list(Order.objects.filter(round=open_round).values_list("pk", "updated_at")) == before


def test_unticked_rows_are_left_out(client, url, liaison, neighbour, open_round):
    client.force_login(liaison)
    response = commit(client, url, upload(client, url, xlsx(SHEET)), keep=[3])
    assert response.context["report"].counts == {"created": 1, "dropped": 1}
    assert list(Order.objects.values_list("household", flat=True)) == [neighbour.pk]


def test_a_sold_out_row_is_refused_and_the_others_saved(
    client, url, liaison, neighbour, open_round
):
    Offer.objects.filter(round=open_round, code="B").update(stock_cap=0)
    client.force_login(liaison)
    response = commit(client, url, upload(client, url, xlsx(SHEET)), keep=[2, 3])
    assert response.context["report"].counts == {"created": 1, "refused": 1}
    assert "Sold out" in response.content.decode()
    assert written(open_round) == (1, 1)


def test_an_altered_payload_is_refused(client, url, liaison, open_round):
    client.force_login(liaison)
    response = client.post(url, {"action": "commit", "payload": "forged:value", "keep": ["2"]})
    assert response.status_code == 200
    assert "upload the file again" in response.content.decode()
    assert written(open_round) == (0, 0)


def test_a_payload_from_another_round_is_refused(
    client, liaison, neighbour, open_round, supplier, packages, tree
):
    import datetime as dt

    from django.utils import timezone

    from baogong.orders import services

    now = timezone.now()
    other = services.round_create(
        supplier=supplier,
        title="另一期",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    services.round_transition(round_=other, action="open", by=None)
    client.force_login(liaison)
    first_url = reverse("orders:excel_upload", args=[open_round.pk])
    other_url = reverse("orders:excel_upload", args=[other.pk])
    response = commit(client, other_url, upload(client, first_url, xlsx(SHEET)), keep=[2, 3])
    assert "upload the file again" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.xlsx", "The submitted file is empty."),
        (b"hello,world\n", "orders.csv", "This is not a spreadsheet."),
        (b"PK\x03\x04garbage", "broken.xlsx", "could not be read as a spreadsheet"),
        (xlsx([["你好"]]), "nohead.xlsx", "No heading row was found"),
        (xlsx([SHEET[0]]), "nothing.xlsx", "no orders under it"),
    ],
)
def test_file_problems_are_explained_on_the_form(
    client, url, liaison, open_round, data, name, message
):
    client.force_login(liaison)
    response = upload(client, url, data, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["file"]
    assert "preview" not in response.context
    assert written(open_round) == (0, 0)


def test_a_file_too_big_is_refused(client, url, liaison, settings, open_round):
    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(liaison)
    response = upload(client, url, xlsx(SHEET))
    assert "files up to" in response.content.decode()
    assert written(open_round) == (0, 0)


def test_posting_without_a_file_asks_for_one(client, url, liaison):
    client.force_login(liaison)
    response = client.post(url, {})
    assert "Choose the file to upload." in response.content.decode()
