"""The liaison receives a delivery at the gate on a phone (one bag missing), a building
volunteer hands bags over by code, and what nobody collected lands on the follow-up list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.lastmile.models import Bag, Delivery, Handover
from tests.browser.conftest import ui
from tests.lastmile.conftest import lastmile  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gate_receipt_handover_and_follow_up_on_a_phone(
    browser,
    live_server,
    phone_page,
    lastmile,  # noqa: F811
    log_in,
    visit,
    screenshot,
):
    page = phone_page
    log_in(page, lastmile.liaison)
    visit(page, lambda: page.get_by_role("link", name=ui("Deliveries")).click())
    screenshot(page, "receipt_01_delivery_list")
    visit(page, lambda: page.get_by_role("link", name=lastmile.delivery.compound.name).click())
    screenshot(page, "receipt_02_delivery")
    visit(page, lambda: page.get_by_role("link", name=ui("Gate receipt")).click())
    visit(page, lambda: page.get_by_role("button", name=ui("Start the gate receipt")).click())
    screenshot(page, "receipt_03_started")

    # Typing a code and pressing Enter records it (htmx), the field is ready for the next.
    code = page.get_by_label(ui("Pickup code on the label"))
    code.fill(lastmile.bag(0).pickup_code.lower())
    code.press("Enter")
    page.locator(".result-ok").wait_for()
    assert lastmile.bag(0).gate_state == Bag.GateState.RECEIVED
    # The counts and the manifest follow without a reload.
    assert page.locator("#receipt-manifest .receipt-received").count() == 1
    screenshot(page, "receipt_04_code_received")
    # Read before clicking: the test thread must not query while the request writes
    # (SQLite's shared in-memory database locks the table).
    missing_code = lastmile.bag(5).pickup_code
    code.fill(missing_code)
    page.get_by_label(ui("missing"), exact=True).check()
    page.get_by_label(ui("Note (what is missing, damaged or wrong)")).fill("车上没有")
    page.get_by_role("button", name=ui("Record")).click()
    page.locator(".result-ok").filter(has_text=missing_code).wait_for()
    assert lastmile.bag(5).gate_state == Bag.GateState.MISSING
    code.fill("ZZZ999")
    code.press("Enter")
    page.locator(".result-bad").wait_for()
    screenshot(page, "receipt_05_unknown_code")

    # The rest by ticking each building's list.
    for building in ("3号楼", "10号楼"):
        button = page.get_by_role("button", name=ui("Mark %(building)s") % {"building": building})
        visit(page, button.click)
    visit(page, lambda: page.get_by_role("button", name=ui("Finish the gate receipt")).click())
    screenshot(page, "receipt_06_summary")
    delivery = Delivery.objects.get(pk=lastmile.delivery.pk)
    assert delivery.state == Delivery.State.PICKUP
    assert page.locator("text=车上没有").count() == 1

    # A building volunteer hands over by code; the same code again is refused.
    volunteer_page = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="zh-CN"
    ).new_page()
    log_in(volunteer_page, lastmile.volunteer)
    volunteer_page.goto(reverse("lastmile:handover", args=[delivery.pk]))
    bag = lastmile.bag(1)
    field = volunteer_page.get_by_label(ui("The household's pickup code"))
    field.fill(bag.pickup_code)
    field.press("Enter")
    volunteer_page.locator(".result-ok").wait_for()
    screenshot(volunteer_page, "receipt_07_handover_ok")
    field.fill(bag.pickup_code)
    field.press("Enter")
    volunteer_page.locator(".result-bad").wait_for()
    screenshot(volunteer_page, "receipt_08_handover_reused")
    assert Handover.objects.filter(bag=bag).count() == 1
    volunteer_page.context.close()

    # The liaison closes the pickup: what is left goes to the follow-up list.
    visit(page, lambda: page.goto(reverse("lastmile:delivery", args=[delivery.pk])))
    visit(page, lambda: page.get_by_role("button", name=ui("Close the pickup")).click())
    screenshot(page, "receipt_09_followup")
    assert page.locator(".followup-row").count() == 3
