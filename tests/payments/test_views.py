from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from baogong.accounts.models import Role
from baogong.orders.models import Order
from baogong.payments import services
from baogong.payments.models import Payment, Refund, StatementLine, Waiver
from baogong.supply.models import Supplier, SupplierArea
from tests.factories import UserFactory, grant
from tests.payments.test_statements import csv_file, row


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(size=(300, 300)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return SimpleUploadedFile("qr.png", out.getvalue(), content_type="image/png")


# --- the resident -------------------------------------------------------------------------


def test_resident_pays_with_last_digits(client, money):
    order = money.orders[0]
    client.force_login(money.resident)
    url = reverse("payments:order_pay", args=[order.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "¥88.00" in page.content.decode()
    response = client.post(url, {"reference": "4821"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).payment_state == Order.PaymentState.CLAIMED
    page = client.get(url).content.decode()
    assert "You reported paying" in page


def test_resident_sees_refusals_on_the_page_and_nothing_is_written(client, money):
    client.force_login(money.resident)
    url = reverse("payments:order_pay", args=[money.orders[0].pk])
    response = client.post(url, {"reference": "", "payer_name": ""})
    assert response.status_code == 200
    assert "Enter the payer" in response.content.decode()
    assert not Payment.objects.exists()


def test_resident_cannot_open_another_households_payment_page(client, money):
    client.force_login(money.resident)
    assert client.get(reverse("payments:order_pay", args=[money.orders[1].pk])).status_code == 404


def test_my_orders_links_to_the_payment_page(client, money):
    client.force_login(money.resident)
    page = client.get(reverse("orders:my_orders")).content.decode()
    assert reverse("payments:order_pay", args=[money.orders[0].pk]) in page
    assert "Pay now" in page


# --- the supplier's payment code ---------------------------------------------------------


def test_supplier_uploads_its_payment_code_and_residents_see_it(client, money):
    client.force_login(money.supplier_user)
    url = reverse("payments:supplier_qr", args=[money.supplier.pk])
    response = client.post(url, {"image": png((2000, 1000))})
    assert response.status_code == 302
    supplier = Supplier.objects.get(pk=money.supplier.pk)
    assert supplier.payment_qr.name.endswith(".png")
    with Image.open(supplier.payment_qr.path) as stored:
        assert max(stored.size) == 1200
    assert supplier.history.latest().history_change_reason == "payment QR code changed"
    image_url = reverse("payments:qr_image", args=[money.supplier.pk])
    client.force_login(money.resident)
    assert client.get(image_url).status_code == 200
    assert (
        image_url
        in client.get(reverse("payments:order_pay", args=[money.orders[0].pk])).content.decode()
    )
    # Staff of the street the supplier serves see it; a resident who never ordered does not.
    street = UserFactory()
    grant(street, Role.STREET_STAFF, area=money.households[0].building.parent.parent.parent)
    SupplierArea.objects.create(supplier=money.supplier, area=street.grants.get().area)
    client.force_login(street)
    assert client.get(image_url).status_code == 200
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(image_url).status_code == 404


def test_payment_code_upload_refuses_non_pictures_and_other_suppliers(client, money):
    client.force_login(money.supplier_user)
    url = reverse("payments:supplier_qr", args=[money.supplier.pk])
    bad = SimpleUploadedFile("qr.png", b"not a picture", content_type="image/png")
    response = client.post(url, {"image": bad})
    assert response.status_code == 200
    assert "not a picture" in response.content.decode()
    assert not Supplier.objects.get(pk=money.supplier.pk).payment_qr
    client.force_login(money.other_supplier_user)
    assert client.get(url).status_code == 404


# --- the round payments page ------------------------------------------------------------


def test_round_payments_filters_and_confirms_with_htmx(client, money):
    payment = services.payment_report(order=money.orders[0], by=money.resident, reference="4821")
    client.force_login(money.liaison)
    url = reverse("payments:round_payments", args=[money.round.pk])
    page = client.get(url, {"show": "claimed"}).content.decode()
    assert money.orders[0].pickup_code in page
    assert money.orders[1].pickup_code not in page
    assert "To confirm (1)" in page and "Unpaid (3)" in page
    response = client.post(
        reverse("payments:payment_action", args=[payment.pk, "confirm"]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith("<li")
    assert Order.objects.get(pk=money.orders[0].pk).payment_state == Order.PaymentState.PAID


def test_round_payments_refused_to_other_supplier_and_volunteer(client, money):
    url = reverse("payments:round_payments", args=[money.round.pk])
    for user in (money.other_supplier_user, money.volunteer, money.resident):
        client.force_login(user)
        assert client.get(url).status_code in (403, 404)


def test_payments_home_lists_the_users_rounds(client, money):
    client.force_login(money.liaison)
    page = client.get(reverse("payments:home")).content.decode()
    assert reverse("payments:round_payments", args=[money.round.pk]) in page
    client.force_login(money.other_supplier_user)
    page = client.get(reverse("payments:home")).content.decode()
    assert reverse("payments:round_payments", args=[money.round.pk]) not in page
    client.force_login(money.resident)
    assert client.get(reverse("payments:home")).status_code == 403


def test_record_waive_refund_forms(client, money):
    order = money.orders[1]
    client.force_login(money.community_staff)
    response = client.post(
        reverse("payments:waiver_grant", args=[order.pk]), {"amount": "20", "reason": ""}
    )
    assert response.status_code == 200 and not Waiver.objects.exists()
    client.post(
        reverse("payments:waiver_grant", args=[order.pk]), {"amount": "20", "reason": "残疾人补贴"}
    )
    assert Waiver.objects.get().amount == 20
    client.force_login(money.liaison)
    client.post(
        reverse("payments:payment_record", args=[order.pk]),
        {"amount": "88", "method": "cash", "payer_name": "李"},
    )
    client.post(
        reverse("payments:refund_issue", args=[order.pk]),
        {"reason": "overpaid", "kind": "refund", "amount": ""},
    )
    refund = Refund.objects.get()
    assert refund.amount == 20
    client.post(reverse("payments:refund_complete", args=[refund.pk]))
    assert Refund.objects.get().state == Refund.State.COMPLETED
    page = client.get(reverse("payments:order_detail", args=[order.pk])).content.decode()
    assert "残疾人补贴" in page


# --- statements and the report ---------------------------------------------------------


def test_statement_upload_shows_rows_and_review(client, money):
    a, b = money.orders[:2]
    client.force_login(money.supplier_user)
    data = csv_file(
        row(ref="1", remark=a.pickup_code), row(ref="2", amount="80"), row(ref="3", amount="oops")
    )
    response = client.post(
        reverse("payments:statement_upload", args=[money.supplier.pk]),
        {"file": SimpleUploadedFile("wx.csv", data)},
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Matched: 1" in page and "Rows not read: 1" in page and "Row 7" in page
    line = StatementLine.objects.get(reference="2")
    client.post(reverse("payments:line_resolve", args=[line.pk]), {"pickup_code": b.pickup_code})
    assert StatementLine.objects.get(pk=line.pk).match_state == "matched"
    # The same file again: nothing changes.
    again = client.post(
        reverse("payments:statement_upload", args=[money.supplier.pk]),
        {"file": SimpleUploadedFile("wx.csv", data)},
    )
    assert again.status_code == 302 and StatementLine.objects.count() == 2
    bad = client.post(
        reverse("payments:statement_upload", args=[money.supplier.pk]),
        {"file": SimpleUploadedFile("x.csv", "名字\n张三\n".encode())},
    )
    assert bad.status_code == 200 and "No heading row" in bad.content.decode()


def test_money_report_page_and_excel(client, money):
    services.payment_record(order=money.orders[0], by=money.liaison, amount="88", method="cash")
    client.force_login(money.supplier_user)
    page = client.get(reverse("payments:money_report", args=[money.round.pk])).content.decode()
    assert "352.00" in page and "264.00" in page
    response = client.get(reverse("payments:money_report_export", args=[money.round.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("Compound", "Orders", "Due")
    assert rows[-1][0] == "Total" and float(rows[-1][2]) == 352.0 and float(rows[-1][3]) == 88.0
    supplier_page = client.get(reverse("payments:supplier_report", args=[money.supplier.pk]))
    assert "352.00" in supplier_page.content.decode()


def test_round_money_figures_are_shown_in_cents(client, money):
    # SQLite sums decimals with float digits: the page must still say ¥x.yz.
    for order in money.orders[:3]:
        services.payment_record(
            order=order, by=money.supplier_user, amount=order.amount_due, method="cash"
        )
    client.force_login(money.liaison)
    page = client.get(reverse("payments:round_payments", args=[money.round.pk])).content.decode()
    paid = sum(o.amount_due for o in money.orders[:3])
    assert f"¥{paid}<" in page
    assert "00000" not in page
