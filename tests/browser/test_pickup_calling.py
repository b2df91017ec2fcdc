"""The liaison plans staggered pickup on a phone (propose, reorder by keyboard, shift, tell
households) and then calls the buildings one by one until the pickup closes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from baogong.lastmile import receipt
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover, PickupSlot
from baogong.notify.models import Message
from tests.browser.conftest import ui
from tests.lastmile.conftest import lastmile  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def windows(delivery: Delivery) -> list[str]:
    return [s.building.name for s in delivery.slots.select_related("building").order_by("position")]


def finish_gate_receipt(lastmile) -> None:  # noqa: F811
    delivery, liaison = lastmile.delivery, lastmile.liaison
    receipt.receipt_start(delivery=delivery, by=liaison)
    receipt.bags_check(
        delivery=delivery,
        bag_ids=list(delivery.bags.exclude(state=Bag.State.VOID).values_list("pk", flat=True)),
        gate_state=Bag.GateState.RECEIVED,
        by=liaison,
    )
    receipt.receipt_finish(delivery=delivery, by=liaison)


def test_slots_and_calling_screen_on_a_phone(phone_page, lastmile, log_in, visit, screenshot):  # noqa: F811
    page = phone_page
    delivery = lastmile.delivery
    log_in(page, lastmile.liaison)
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Pickup slots")).click())
    page.get_by_label(ui("People waiting at once")).fill("2")
    page.get_by_label(ui("First slot starts at")).fill("2026-11-28T15:00")
    visit(page, lambda: page.get_by_role("button", name=ui("Propose slots")).click())
    assert windows(delivery) == ["3号楼", "10号楼"]
    screenshot(page, "slots_01_proposed")

    # Reorder with the keyboard: focus "move 10号楼 earlier" and press Enter.
    page.get_by_role("button", name=ui("Move %(b)s earlier") % {"b": "10号楼"}).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    visit(page, lambda: None)
    assert windows(delivery) == ["10号楼", "3号楼"]
    screenshot(page, "slots_02_reordered")

    # Shift 3号楼 so it overlaps 10号楼 without the rest following: refused, with the reason.
    visit(
        page,
        lambda: page.get_by_role(
            "link", name=ui("Change the time of %(b)s") % {"b": "3号楼"}
        ).click(),
    )
    page.get_by_label(ui("Starts at")).fill("2026-11-28T15:01")
    page.get_by_label(ui("Ends at")).fill("2026-11-28T15:10")
    page.get_by_label(ui("Later slots move by the same amount")).uncheck()
    visit(page, lambda: page.get_by_role("button", name=ui("Save")).click())
    assert page.get_by_role("alert").count() >= 1
    screenshot(page, "slots_03_overlap_refused")
    page.get_by_label(ui("Starts at")).fill("2026-11-28T15:05")
    visit(page, lambda: page.get_by_role("button", name=ui("Save")).click())
    slot_3 = delivery.slots.get(building=lastmile.building_3)
    assert timezone.localtime(slot_3.starts_at).strftime("%H:%M") == "15:05"
    visit(page, lambda: page.get_by_role("button", name=ui("Tell households")).first.click())
    assert Message.objects.filter(kind="pickup_slot").values("household").distinct().count() == 5
    screenshot(page, "slots_04_households_told")

    # The gate receipt is finished (tested in test_gate_receipt); now call the buildings.
    finish_gate_receipt(lastmile)
    visit(page, lambda: page.get_by_role("link", name=ui("Open the calling screen")).click())
    screenshot(page, "calling_01_ready")
    call = page.locator("button.calling-button")
    visit(page, call.click)
    assert delivery.slots.get(position=1).state == PickupSlot.State.CALLED
    bag_hand_over(bag=lastmile.bag(4), method=Handover.Method.CODE, by=lastmile.liaison)
    # The counts refresh by themselves (htmx polling); reload instead of waiting 10 s.
    visit(page, page.reload)
    assert page.locator(".calling-done").count() == 1
    screenshot(page, "calling_02_first_building")
    visit(page, call.click)
    screenshot(page, "calling_03_second_building")
    visit(page, call.click)
    screenshot(page, "calling_04_closed")
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DONE
    assert delivery.bags.filter(state=Bag.State.UNCOLLECTED).count() == 4
