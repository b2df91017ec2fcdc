"""The chain walked through its pages, each step by the role that does it."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from baogong.requisitions import ledger
from baogong.requisitions.models import (
    AllocationOrder,
    DistributionEntry,
    Requisition,
    Settlement,
    Stock,
    StreetRequest,
)

D = Decimal


def url(name, *args):
    return reverse(f"requisitions:{name}", args=args)


def test_the_whole_chain_through_the_pages(client, chain):
    tree = chain.tree
    client.force_login(chain.community_staff)
    response = client.post(
        url("requisition_create"),
        {
            "community": tree.community_a.pk,
            "line_count": 2,
            "item-0": "大米",
            "spec-0": "5kg装",
            "quantity-0": "20",
            "unit-0": "袋",
            "reason-0": "独居老人断粮",
            "urgency-0": "urgent",
            "item-1": "",
            "quantity-1": "",
            "unit-1": "",
            "submit_now": "1",
        },
    )
    requisition = Requisition.objects.get()
    assert response.status_code == 302 and requisition.state == "submitted"

    client.force_login(chain.street_staff)
    line = requisition.lines.get()
    client.post(
        url("requisition_review", requisition.pk),
        {
            f"decision-{line.pk}": "reduce",
            f"quantity-{line.pk}": "18",
            f"reason-{line.pk}": "先保障最急需",
        },
    )
    requisition.refresh_from_db()
    assert requisition.state == "reviewed"
    response = client.post(url("request_create"), {"requisition": [requisition.pk]})
    street_request = StreetRequest.objects.get()
    assert response.status_code == 302
    client.post(url("request_submit", street_request.pk))

    client.force_login(chain.bureau)
    request_line = street_request.lines.get()
    client.post(
        url("request_decide", street_request.pk), {f"decision-{request_line.pk}": "approve"}
    )
    page = client.get(url("allocation_create", street_request.pk))
    assert page.status_code == 200 and "18" in page.content.decode()
    response = client.post(
        url("allocation_create", street_request.pk),
        {
            "supplier": chain.supplier.pk,
            "allocation_date": "2026-03-02",
            "delivery_area": tree.street_a.pk,
            "delivery_place": "街道办大院",
            "delivery_at": "2026-03-02T15:00",
            "contact_name": "王测试",
            "contact_phone": "17000009999",
            f"quantity-{request_line.pk}": "18",
            f"price-{request_line.pk}": "50",
        },
    )
    order = AllocationOrder.objects.get()
    assert response.status_code == 302 and order.number == "DB-2026-000001"

    client.force_login(chain.supplier_user)
    allocation_line = order.lines.get()
    client.post(url("allocation_confirm", order.pk), {f"quantity-{allocation_line.pk}": "18"})
    order.refresh_from_db()
    assert order.state == "confirmed"

    client.force_login(chain.street_staff)
    form = {
        f"delivered-{allocation_line.pk}": "18",
        f"damaged-{allocation_line.pk}": "1",
        f"reason-{allocation_line.pk}": "一袋破损",
        "request_key": "abc123",
    }
    client.post(url("receipt_create", order.pk), form)
    client.post(url("receipt_create", order.pk), form)  # a double submit
    assert order.receipts.count() == 1
    stock = Stock.objects.get(holder=tree.street_a)
    assert stock.on_hand == D("17.00")
    client.post(
        url("distribute", stock.pk),
        {"to": "area", "area": tree.community_a.pk, "quantity": "10", "request_key": "d1"},
    )
    community_stock = Stock.objects.get(holder=tree.community_a)
    client.force_login(chain.community_staff)
    response = client.post(
        url("distribute", community_stock.pk) + f"?compound={tree.compound_a.pk}",
        {
            "to": "household",
            "household": tree.household_a.pk,
            "compound": tree.compound_a.pk,
            "quantity": "1",
            "request_key": "d2",
        },
    )
    assert response.status_code == 302
    entry = DistributionEntry.objects.get(to_household=tree.household_a)
    trace = client.get(url("distribution_detail", entry.pk)).content.decode()
    assert requisition.number in trace and order.number in trace
    assert street_request.number in trace

    client.force_login(chain.street_staff)
    response = client.post(
        url("settlement_create", order.pk),
        {
            "started_on": "2026-02-10",
            f"price-{allocation_line.pk}": "52.50",
            f"source-{allocation_line.pk}": "区物价监测",
        },
    )
    settlement = Settlement.objects.get()
    assert settlement.market_total == D("17") * D("52.50")
    forward = client.get(url("requisition_detail", requisition.pk)).content.decode()
    assert settlement.number in forward and order.number in forward


def test_bad_input_stays_on_the_page_and_writes_nothing(client, chain):
    client.force_login(chain.community_staff)
    response = client.post(
        url("requisition_create"),
        {
            "community": chain.tree.community_a.pk,
            "line_count": 1,
            "item-0": "大米",
            "quantity-0": "-5",
            "unit-0": "袋",
        },
    )
    assert response.status_code == 422
    assert "Line 1: the quantity must be a number above 0." in response.content.decode()
    assert not Requisition.objects.exists()


def test_over_receipt_without_reason_is_refused_on_the_page(client, chain):
    order = chain.confirmed()
    line = order.lines.first()
    client.force_login(chain.street_staff)
    response = client.post(
        url("receipt_create", order.pk), {f"delivered-{line.pk}": "999", "request_key": "k"}
    )
    assert response.status_code == 422
    assert "give a reason to take more" in response.content.decode()
    assert not order.receipts.exists()


def test_lists_show_only_the_users_scope(client, chain, user_with_role):
    mine = chain.requisition()
    other_community = chain.tree.community_b
    from baogong.accounts.models import Role

    theirs_staff = user_with_role(Role.COMMUNITY_STAFF, other_community)
    chain.community_staff = theirs_staff
    theirs = chain.requisition(community=other_community)
    client.force_login(chain.other_street_staff)
    page = client.get(url("requisition_list")).content.decode()
    assert theirs.number in page and mine.number not in page
    client.force_login(chain.bureau)
    page = client.get(url("requisition_list")).content.decode()
    assert theirs.number in page and mine.number in page
    client.force_login(chain.supplier_user)
    assert client.get(url("requisition_list")).status_code == 403


def test_dashboard_counts_per_street(client, chain, time_machine):
    time_machine.move_to("2026-03-01 10:00 +08:00")
    chain.requisition()
    order = chain.received()
    prices = {line.pk: ledger.PriceSpec("50", "询价") for line in order.lines.all()}
    ledger.settlement_start(order=order, prices=prices, by=chain.bureau)
    time_machine.move_to("2026-04-20 10:00 +08:00")
    client.force_login(chain.bureau)
    response = client.get(url("dashboard"))
    rows = response.context["rows"]
    assert [row.street for row in rows] == [chain.tree.street_a]
    assert rows[0].requisitions["submitted"] == 1 and rows[0].ages["over_3"] == 1
    assert rows[0].due == 1 and rows[0].overdue == 1


def test_verify_page_is_public_and_shows_no_personal_data(client, chain):
    order = chain.allocation()
    page = client.get(url("allocation_verify", order.verify_token))
    text = page.content.decode()
    assert page.status_code == 200 and order.number in text and "genuine and valid" in text
    for private in ("17000009999", "王测试", "大米", chain.supplier.name, "街道办大院"):
        assert private not in text
    assert client.get(url("allocation_verify", "not-a-token")).status_code == 404


def test_allocation_pdf_has_the_number_masked_phone_and_a_qr(client, chain, tmp_path):
    order = chain.allocation()
    client.force_login(chain.supplier_user)
    response = client.get(url("allocation_pdf", order.pk))
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "order.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert order.number in text and "170****9999" in text and "17000009999" not in text
    assert "1,500.00" in text  # 20×50 + 10×50


def test_settlement_statement_pdf_and_excel_totals(client, chain):
    order = chain.received()
    prices = {
        line.pk: ledger.PriceSpec("52.50" if line.item == "大米" else "48", "监测")
        for line in order.lines.all()
    }
    settlement = ledger.settlement_start(order=order, prices=prices, by=chain.bureau)
    client.force_login(chain.street_staff)
    workbook = load_workbook(io.BytesIO(client.get(url("settlement_xlsx", settlement.pk)).content))
    sheet = workbook.active
    totals = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Total")
    assert D(str(totals[6])) == D("1530.00") and D(str(totals[8])) == D("1500.00")
    pdf = client.get(url("settlement_pdf", settlement.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["other_street_staff", "supplier_user"])
def test_review_page_refuses_others(client, chain, who):
    requisition = chain.requisition()
    client.force_login(getattr(chain, who))
    assert client.get(url("requisition_review", requisition.pk)).status_code in (403, 404)


def test_a_need_sent_up_from_the_welfare_ledger_shows_on_its_requisition(client, chain):
    from baogong.welfare import services as welfare

    resident = chain.tree.household_a.residents.first()
    care = welfare.care_save(
        resident=resident, details=welfare.CareDetails(categories=["elderly_alone"]), by=None
    )
    result = welfare.checkin_record(
        care=care,
        outcome="reached",
        wellbeing="needs_help",
        needs=[welfare.NeedLine("grain", "大米", 2)],
        by=None,
    )
    (need,) = result.needs
    welfare.need_requisition(need=need, by=chain.community_staff)
    requisition = Requisition.objects.get()
    client.force_login(chain.street_staff)
    page = client.get(url("requisition_detail", requisition.pk)).content.decode()
    assert "Covers 1 need from the special-care needs list." in page
    assert resident.name not in page
