"""A resident on a phone: open "Order supplies", step quantities, submit, see the pickup code."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.orders import services
from baogong.orders.models import Order, Round
from baogong.supply.models import Package, PackageLine, Supplier
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PACKAGES = [
    # name, price, limit, stock, lines (item, specification, quantity, unit)
    (
        "米面粮油套餐",
        "88.00",
        2,
        50,
        [("大米", "5kg", 1, "袋"), ("面粉", "2.5kg", 1, "袋"), ("花生油", "1.8L", 1, "桶")],
    ),
    (
        "新鲜蔬菜套餐",
        "39.90",
        1,
        100,
        [
            ("白菜", "", 2, "颗"),
            ("土豆", "1kg", 1, "袋"),
            ("西红柿", "1kg", 1, "袋"),
            ("青椒", "500g", 1, "袋"),
        ],
    ),
    ("肉蛋套餐", "69.00", 1, 0, [("鸡蛋", "30枚", 1, "盒"), ("猪肉", "1kg", 1, "份")]),
]


@pytest.fixture
def open_round_for_resident():
    """幸福小区 with one resident, and 好邻居超市's round open for the compound."""
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    building = make_area(Area.Kind.BUILDING, compound, "3号楼", units_count=2)
    household = HouseholdFactory(building=building, unit="2", room="502")
    ResidentFactory(household=household, name="李秀英")
    resident = UserFactory(name="李秀英")
    grant(resident, Role.RESIDENT, household=household)

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
    local_now = timezone.localtime()
    tomorrow = local_now.date() + dt.timedelta(days=1)
    at = lambda day, hour: dt.datetime.combine(day, dt.time(hour), local_now.tzinfo)  # noqa: E731
    round_ = services.round_create(
        supplier=supplier,
        title="第3期 保供套餐",
        areas=[compound],
        opens_at=local_now - dt.timedelta(hours=2),
        cutoff_at=at(tomorrow, 18),
        delivery_at=at(tomorrow + dt.timedelta(days=1), 10),
        delivery_note="东门",
        offers=specs,
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    return {"resident": resident, "household": household, "round": round_}


def test_resident_orders_supplies_on_a_phone_and_sees_the_pickup_code(
    phone_page, open_round_for_resident, log_in, visit, screenshot
):
    page = phone_page
    log_in(page, open_round_for_resident["resident"])

    visit(page, lambda: page.get_by_role("link", name=ui("Order supplies")).first.click())
    assert page.get_by_role("heading", name="第3期 保供套餐").is_visible()
    assert page.get_by_text("好邻居超市").is_visible()
    screenshot(page, "resident-shop")

    visit(
        page,
        lambda: page.get_by_role("link", name=re.compile(re.escape(ui("Choose packages")))).click(),
    )
    total = page.locator("[data-total]")
    assert total.inner_text() == "¥0.00"
    more_rice = page.get_by_role("button", name=ui("One more: %(name)s") % {"name": "米面粮油套餐"})
    more_veg = page.get_by_role("button", name=ui("One more: %(name)s") % {"name": "新鲜蔬菜套餐"})
    more_rice.click()
    more_rice.click()
    assert more_rice.get_attribute("aria-disabled") == "true"  # at the limit of 2
    more_rice.focus()
    page.keyboard.press("Enter")  # still focusable; a press changes nothing
    assert page.get_by_label(re.compile("米面粮油套餐")).input_value() == "2"
    more_veg.focus()
    page.keyboard.press("Enter")  # the stepper works from the keyboard
    assert total.inner_text() == "¥215.90"
    assert page.locator(".shop-order-total").get_attribute("aria-live") == "polite"
    # The sold-out package cannot be chosen.
    assert page.get_by_text(ui("Sold out")).is_visible()
    assert page.get_by_label(re.compile("肉蛋套餐")).count() == 0
    page.get_by_role("heading", name=re.compile("米面粮油套餐")).scroll_into_view_if_needed()
    visit(page, lambda: None)
    screenshot(page, "resident-order")

    visit(page, lambda: page.get_by_role("button", name=ui("Place order")).click())
    order = Order.objects.get(round=open_round_for_resident["round"])
    assert order.channel == Order.Channel.SELF
    assert order.amount_due == Decimal("215.90")
    assert page.locator(".shop-pickup-code").inner_text() == order.pickup_code
    assert page.get_by_text("¥215.90").first.is_visible()
    screenshot(page, "resident-confirmation")

    visit(page, lambda: page.get_by_role("link", name=ui("My orders")).last.click())
    assert page.get_by_text(order.pickup_code).is_visible()
    screenshot(page, "resident-my-orders")
    assert Round.objects.get(pk=order.round_id).orders_total == 1


def test_a_refused_change_is_explained_in_an_alert_keeping_what_was_typed(
    phone_page, open_round_for_resident, log_in, visit, screenshot
):
    round_ = open_round_for_resident["round"]
    offers = {o.code: o.pk for o in round_.offers.all()}
    services.order_place(
        round_=round_,
        household=open_round_for_resident["household"],
        lines={offers["A"]: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    page = phone_page
    log_in(page, open_round_for_resident["resident"])
    visit(page, lambda: page.goto("/my-orders/"))
    visit(page, lambda: page.get_by_role("link", name=re.compile(ui("Change order"))).click())
    rice = page.get_by_label(re.compile("米面粮油套餐"))
    assert rice.input_value() == "1"  # the order so far
    rice.fill("3")  # typed past the limit: the page lets the server say why
    assert page.locator("[data-total]").inner_text() == "¥264.00"
    visit(page, lambda: page.get_by_role("button", name=ui("Save changes")).click())
    alert = page.get_by_role("alert")
    assert (
        ui("At most %(limit)s of %(package)s per household.")
        % {"limit": 2, "package": "米面粮油套餐"}
    ) in alert.inner_text()
    assert page.get_by_label(re.compile("米面粮油套餐")).input_value() == "3"
    screenshot(page, "resident-order-refused")
    assert list(Order.objects.get().lines.values_list("quantity", flat=True)) == [1]
