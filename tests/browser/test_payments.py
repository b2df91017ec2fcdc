"""A resident pays on a phone; the liaison confirms; the supplier reconciles its statement."""

from __future__ import annotations

import io

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile

from baogong.orders.models import Order
from baogong.payments import services, statements
from tests.browser.conftest import ui
from tests.payments.conftest import money  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def qr_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    segno.make("https://pay.example.invalid/demo", error="m").save(out, kind="png", scale=8)
    return SimpleUploadedFile("qr.png", out.getvalue(), content_type="image/png")


def test_resident_pays_and_liaison_confirms(
    money,  # noqa: F811
    phone_page,
    log_in,
    visit,
    screenshot,
):
    services.supplier_payment_qr_set(
        supplier=money.supplier, upload=qr_upload(), by=money.supplier_user
    )
    order = money.orders[0]
    page = phone_page
    log_in(page, money.resident)
    visit(page, lambda: page.goto("/my-orders/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Pay now")).first.click())
    assert page.get_by_text("¥88.00").first.is_visible()
    image = page.get_by_role("img")
    assert image.evaluate("img => img.naturalWidth") > 0
    screenshot(page, "payments-resident-pay")
    page.get_by_label(ui("Last 4 digits of the payment")).fill("4821")
    visit(page, lambda: page.get_by_role("button", name=ui("I have paid")).click())
    assert Order.objects.get(pk=order.pk).payment_state == Order.PaymentState.CLAIMED

    page.context.clear_cookies()
    log_in(page, money.liaison)
    visit(page, lambda: page.goto(f"/payments/rounds/{money.round.pk}/?show=claimed"))
    screenshot(page, "payments-round-to-confirm")
    row = page.locator(f"#order-{order.pk}")
    row.get_by_role("button", name=ui("Confirm")).click()
    # htmx swaps the row in place: the claim and its buttons go, the row says paid.
    page.locator(f"#order-{order.pk} .pay-claim").wait_for(state="detached")
    screenshot(page, "payments-round-confirmed")
    assert Order.objects.get(pk=order.pk).payment_state == Order.PaymentState.PAID


def test_supplier_reviews_its_statement(
    money,  # noqa: F811
    phone_page,
    log_in,
    visit,
    screenshot,
):
    from tests.payments.test_statements import csv_file, row

    a, b = money.orders[:2]
    data = csv_file(
        row(ref="1", remark=a.pickup_code), row(ref="2", amount="80.00"), row(ref="3", amount="-5")
    )
    result = statements.statement_import(
        supplier=money.supplier, data=data, filename="微信.csv", by=money.supplier_user
    )
    page = phone_page
    log_in(page, money.supplier_user)
    visit(page, lambda: page.goto(f"/payments/statements/{result.statement.pk}/"))
    screenshot(page, "payments-statement-review")
    page.get_by_label(ui("Pickup code of the order")).first.fill(b.pickup_code)
    visit(page, lambda: page.get_by_role("button", name=ui("Match"), exact=True).first.click())
    assert result.statement.lines.filter(match_state="matched").count() == 2
