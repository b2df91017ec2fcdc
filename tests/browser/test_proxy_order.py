"""A compound liaison: watch the round page, and take a phoned-in order with the keyboard alone."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.orders import services
from baogong.orders.models import Offer, Order
from baogong.supply.models import Package, PackageLine, Supplier
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PACKAGES = [
    ("米面粮油套餐", "88.00", 2, 60, [("大米", "5kg", 1, "袋"), ("花生油", "1.8L", 1, "桶")]),
    ("新鲜蔬菜套餐", "39.90", 1, 80, [("白菜", "", 2, "颗"), ("土豆", "1kg", 1, "袋")]),
    ("肉蛋套餐", "69.00", 1, 40, [("鸡蛋", "30枚", 1, "盒"), ("猪肉", "1kg", 1, "份")]),
]


@pytest.fixture
def busy_round():
    """幸福小区 (3 buildings, 36 households), 好邻居超市's round open with 14 orders."""
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    households = []
    for name in ("3号楼", "5号楼", "7号楼"):
        building = make_area(Area.Kind.BUILDING, compound, name, units_count=2)
        for unit in ("1", "2"):
            for floor in range(1, 7):
                households.append(
                    HouseholdFactory(building=building, unit=unit, room=f"{floor}0{unit}")
                )
    caller = next(
        h for h in households if (h.building.name, h.unit, h.room) == ("3号楼", "2", "502")
    )
    caller.phone = "13907105566"
    caller.save()
    ResidentFactory(household=caller, name="王秀英", phone="13907105566")
    liaison = UserFactory(name="陈志刚")
    grant(liaison, Role.LIAISON, area=compound)

    supplier = Supplier.objects.create(name="好邻居超市", kind=Supplier.Kind.SUPERMARKET)
    specs = []
    for code, (name, price, limit, stock, lines) in zip("ABC", PACKAGES, strict=True):
        package = Package.objects.create(
            supplier=supplier,
            name=name,
            price=Decimal(price),
            per_household_limit=limit,
            default_stock_cap=stock,
        )
        for position, (item, spec, quantity, unit) in enumerate(lines):
            PackageLine.objects.create(
                package=package,
                item=item,
                specification=spec,
                quantity=quantity,
                unit=unit,
                position=position,
            )
        specs.append(services.OfferSpec(package, code))
    now = timezone.localtime()
    tomorrow = now.date() + dt.timedelta(days=1)
    round_ = services.round_create(
        supplier=supplier,
        title="第3期 保供套餐",
        areas=[compound],
        opens_at=now - dt.timedelta(hours=3),
        cutoff_at=dt.datetime.combine(tomorrow, dt.time(18), now.tzinfo),
        delivery_at=dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(10), now.tzinfo),
        delivery_note="东门",
        capacity=200,
        offers=specs,
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    offers = {o.code: o.pk for o in Offer.objects.filter(round=round_)}
    channels = [Order.Channel.SELF, Order.Channel.PROXY, Order.Channel.CHAIN]
    for n, household in enumerate(households[1::2][:14]):
        services.order_place(
            round_=round_,
            household=household,
            lines={offers["A"]: 1 + n % 2, offers["B"]: 1} if n % 3 else {offers["C"]: 1},
            channel=channels[n % 3],
            by=None if n % 3 == 0 else liaison,
        )
    return {"round": round_, "liaison": liaison, "caller": caller, "offers": offers}


def test_liaison_takes_a_phoned_in_order_with_the_keyboard_alone(
    phone_page, busy_round, log_in, visit, check_accessibility, screenshot
):
    page = phone_page
    round_ = busy_round["round"]
    log_in(page, busy_round["liaison"])
    visit(page, lambda: page.goto(f"/rounds/{round_.pk}/proxy/"))
    search = page.locator("#proxy-q")
    assert search.evaluate("el => el === document.activeElement")  # no click needed

    started = time.monotonic()
    page.keyboard.type("3-2-502")
    page.locator("#proxy-results a.proxy-pick").first.wait_for()
    assert page.locator("#proxy-results a.proxy-pick").count() == 1
    check_accessibility(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    rice = page.get_by_label(re.compile("A. 米面粮油套餐"))
    rice.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.matches('input.qty')")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    assert page.locator("#proxy-total").inner_text() == "¥215.90"
    check_accessibility(page)
    screenshot(page, "proxy-order")
    page.keyboard.press("Enter")
    done = page.locator("#proxy-status .proxy-done")
    done.wait_for()
    elapsed = time.monotonic() - started

    order = Order.objects.get(round=round_, household=busy_round["caller"])
    assert (order.channel, order.entered_by) == (Order.Channel.PROXY, busy_round["liaison"])
    assert order.amount_due == Decimal("215.90")
    assert sorted(order.lines.values_list("offer__code", "quantity")) == [("A", 2), ("B", 1)]
    assert order.pickup_code in done.inner_text() and "¥215.90" in done.inner_text()
    assert page.locator("#proxy-status").get_attribute("aria-live") == "polite"
    # Ready for the next caller: the search box is back and has the focus.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'proxy-q'")
    check_accessibility(page)
    screenshot(page, "proxy-order-saved")
    print(f"\nproxy order with the keyboard: {elapsed:.2f} s of browser time")

    # The next caller gives the last 4 digits of a phone that has already ordered: the
    # order opens for changes, Enter in the box opens the only match directly.
    page.keyboard.type("5566")
    page.locator("#proxy-results a.proxy-pick").first.wait_for()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=ui("Save changes")).wait_for()
    assert page.locator(".existing-order").get_by_text(order.pickup_code).is_visible()
    page.keyboard.press("Escape")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'proxy-q'")


def test_liaison_round_page_on_a_phone_and_a_desktop(
    browser, live_server, phone_page, busy_round, log_in, visit, screenshot
):
    page = phone_page
    round_ = busy_round["round"]
    log_in(page, busy_round["liaison"])
    visit(page, lambda: page.goto("/rounds/"))
    visit(page, lambda: page.get_by_role("link", name=re.compile("第3期 保供套餐")).click())
    assert page.get_by_role("heading", name=re.compile("第3期 保供套餐")).is_visible()
    counts = page.locator("#round-counts")
    assert counts.get_attribute("hx-trigger") == "every 10s"
    assert page.locator(".counts-live").get_attribute("aria-live") == "polite"
    assert "14" in counts.locator("dl.totals").inner_text()
    # Closing early and cancelling sit behind the details, each asking for a reason.
    page.locator(".round-facts summary").click()
    assert page.get_by_role("button", name=ui("Cancel the round")).is_visible()
    visit(page, lambda: None)
    page.locator(".round-facts summary").click()
    # Opening a building's list loads who to phone in it.
    page.locator(".chase-building summary").first.click()
    page.locator(".chase-row").first.wait_for()
    assert page.locator(".chase-row a.phone").first.inner_text().startswith("1")
    visit(page, lambda: None)
    screenshot(page, "liaison-round")

    # A new order elsewhere shows up on the page without a reload.
    services.order_place(
        round_=round_,
        household=busy_round["caller"],
        lines={busy_round["offers"]["C"]: 1},
        channel=Order.Channel.SELF,
        by=None,
    )
    page.wait_for_function(
        "document.querySelector('#round-counts dl.totals dd').textContent.trim().startsWith('15')",
        timeout=15_000,
    )

    visit(page, lambda: page.goto("/rounds/new/"))
    visit(
        page, lambda: page.goto(f"/rounds/{round_.pk}/proxy/?household={busy_round['caller'].pk}")
    )

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="zh-CN")
    desktop = context.new_page()
    log_in(desktop, busy_round["liaison"])
    visit(desktop, lambda: desktop.goto(f"/rounds/{round_.pk}/"))
    screenshot(desktop, "liaison-round-desktop")
    context.close()
