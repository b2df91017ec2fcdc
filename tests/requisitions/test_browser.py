"""Each role's main page of the chain on a phone, checked by axe, with screenshots."""

from __future__ import annotations

import pytest

from baogong.requisitions import ledger
from baogong.requisitions.models import Requisition, Stock
from tests.browser.conftest import (  # noqa: F401  (the browser fixtures, used by name)
    browser,
    check_accessibility,
    log_in,
    phone_page,
    screenshot,
    ui,
    visit,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_chain_page_by_page(phone_page, chain, log_in, visit, screenshot):  # noqa: F811
    page = phone_page
    # Community staff raise a request on the form.
    log_in(page, chain.community_staff)
    visit(page, lambda: page.goto("/requisitions/new/"))
    page.locator("#item-0").fill("大米")
    page.locator("#spec-0").fill("5kg/袋")
    page.locator("#quantity-0").fill("30")
    page.locator("#unit-0").fill("袋")
    page.locator("#reason-0").fill("封控小区独居老人断粮")
    page.locator("#submit_now").check()
    screenshot(page, "requisitions-new")
    visit(page, lambda: page.locator("form.round-form button[type=submit]").click())
    requisition = Requisition.objects.get()
    assert requisition.state == "submitted"
    screenshot(page, "requisitions-detail")
    page.context.clear_cookies()

    # The street office reviews it.
    log_in(page, chain.street_staff)
    visit(page, lambda: page.goto(f"/requisitions/{requisition.pk}/review/"))
    line = requisition.lines.get()
    page.locator(f"#decision-{line.pk}-reduce").check()
    page.locator(f"#quantity-{line.pk}").fill("25")
    page.locator(f"#reason-{line.pk}").fill("街道储备先调剂5袋")
    screenshot(page, "requisitions-street-review")
    visit(page, lambda: page.locator("main form button[type=submit]").click())
    requisition.refresh_from_db()
    assert requisition.state == "reviewed"
    page.context.clear_cookies()

    # Later in the chain: the bureau's overview, the receiving team's stock, a settlement.
    chain.community_staff.refresh_from_db()
    order = chain.received(chain.confirmed(chain.allocation()))
    prices = {line.pk: ledger.PriceSpec("52.50", "区物价监测") for line in order.lines.all()}
    settlement = ledger.settlement_start(order=order, prices=prices, by=chain.bureau)
    log_in(page, chain.bureau)
    visit(page, lambda: page.goto("/requisitions/"))
    screenshot(page, "requisitions-dashboard")
    visit(page, lambda: page.goto(f"/requisitions/allocations/{order.pk}/"))
    screenshot(page, "requisitions-allocation")
    visit(page, lambda: page.goto(f"/requisitions/settlements/{settlement.pk}/"))
    screenshot(page, "requisitions-settlement")
    page.context.clear_cookies()

    log_in(page, chain.street_staff)
    stock = Stock.objects.filter(holder=chain.tree.street_a).first()
    visit(page, lambda: page.goto(f"/requisitions/stock/{stock.pk}/distribute/"))
    page.locator("#quantity").fill("5")
    visit(page, lambda: page.get_by_role("button", name=ui("Record the hand-out")).click())
    visit(page, lambda: page.goto("/requisitions/stock/"))
    screenshot(page, "requisitions-stock")
    page.context.clear_cookies()

    log_in(page, chain.supplier_user)
    visit(page, lambda: page.goto("/requisitions/allocations/"))
    assert order.number in page.content()
