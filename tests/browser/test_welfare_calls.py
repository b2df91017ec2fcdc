"""A building volunteer on a 360-px phone: the call list, a call with a need, the order."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.orders import services as order_services
from baogong.orders.models import Order
from baogong.supply.models import Package, PackageLine, Supplier
from baogong.welfare import services
from baogong.welfare.models import Need, SpecialCare
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARROW = {"width": 360, "height": 740}
PEOPLE = [  # (room, name, phone, categories, days since due)
    ("101", "王秀英", "17000305566", ["elderly_alone", "chronic_illness"], 2),
    ("302", "李建国", "17000305567", ["disabled"], 0),
    ("501", "赵桂兰", "17000305568", ["elderly_alone"], 5),
]


@pytest.fixture
def world():
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    building = make_area(Area.Kind.BUILDING, compound, "5号楼", units_count=1)
    volunteer = UserFactory(name="刘志愿")
    grant(volunteer, Role.VOLUNTEER, area=building)
    cares = []
    today = timezone.localdate()
    for room, name, phone, categories, overdue in PEOPLE:
        household = HouseholdFactory(building=building, unit="1", room=room, phone=phone)
        resident = ResidentFactory(household=household, name=name, phone=phone)
        care = services.care_save(
            resident=resident,
            details=services.CareDetails(
                categories=categories,
                medicines="硝苯地平",
                hearing="hard" if overdue == 5 else "normal",
                volunteer_ids=[volunteer.pk],
                needs_door_delivery=True,
            ),
            by=None,
        )
        SpecialCare.objects.filter(pk=care.pk).update(due_on=today - dt.timedelta(days=overdue))
        cares.append(care)
    supplier = Supplier.objects.create(name="好邻居超市", kind=Supplier.Kind.SUPERMARKET)
    specs = []
    for code, (name, price, category, item) in zip(
        "AB",
        [
            ("米面粮油套餐", "88.00", "grain_oil", "大米"),
            ("新鲜蔬菜套餐", "39.90", "vegetables", "青菜"),
        ],
        strict=True,
    ):
        package = Package.objects.create(
            supplier=supplier,
            name=name,
            price=Decimal(price),
            category=category,
            per_household_limit=2,
            default_stock_cap=50,
        )
        PackageLine.objects.create(package=package, item=item, unit="份")
        specs.append(order_services.OfferSpec(package, code))
    now = timezone.now()
    round_ = order_services.round_create(
        supplier=supplier,
        title="第3期 保供套餐",
        areas=[compound],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=specs,
        by=None,
    )
    order_services.round_transition(round_=round_, action="open", by=None)
    return {"volunteer": volunteer, "cares": cares, "round": round_}


@pytest.fixture
def narrow_page(browser, live_server):
    context = browser.new_context(
        viewport=NARROW,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="zh-CN",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_volunteer_calls_records_a_need_and_orders_on_behalf(
    narrow_page, world, log_in, visit, screenshot
):
    page = narrow_page
    wang = world["cares"][0]
    log_in(page, world["volunteer"])
    visit(page, lambda: page.goto("/welfare/"))
    names = page.locator(".call-row .row-title").all_inner_texts()
    assert names == ["赵桂兰", "王秀英", "李建国"]  # longest overdue first, then due today
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "welfare-call-list")

    visit(page, lambda: page.locator(f'a[href="/welfare/care/{wang.pk}/call/"]').click())
    page.get_by_label(ui("reached"), exact=True).check()
    page.get_by_label(ui("needs help"), exact=True).check()
    page.get_by_label(ui("Need %(n)s: what") % {"n": 1}).select_option("vegetables")
    page.get_by_label(ui("Need %(n)s: item or detail") % {"n": 1}).fill("青菜")
    page.get_by_label(ui("Need %(n)s: quantity") % {"n": 1}).fill("1")
    screenshot(page, "welfare-record-call")
    visit(page, lambda: page.get_by_role("button", name=ui("Save call")).click())
    need = Need.objects.get()
    assert need.state == Need.State.OPEN and need.checkin.called_by == world["volunteer"]
    screenshot(page, "welfare-record-after-call")

    visit(page, lambda: page.get_by_role("link", name=ui("Order on behalf")).click())
    veg = world["round"].offers.get(code="B")
    assert page.locator(f"#id_offer_{veg.pk}").input_value() == "1"  # pre-filled from the need
    screenshot(page, "welfare-order-on-behalf")
    visit(page, lambda: page.get_by_role("button", name=ui("Place order")).click())
    order = Order.objects.get()
    assert order.channel == Order.Channel.PROXY and order.household_id == wang.household_id
    assert order.entered_by == world["volunteer"]
    need.refresh_from_db()
    assert need.state == Need.State.IN_HAND and need.order == order
    assert order.pickup_code in page.content()
    screenshot(page, "welfare-need-in-hand")


def test_community_staff_dashboard_and_lists(narrow_page, world, log_in, visit, screenshot):
    page = narrow_page
    community = Area.objects.get(name="风华社区")
    staff = UserFactory(name="周社区")
    grant(staff, Role.COMMUNITY_STAFF, area=community)
    services.checkin_record(
        care=world["cares"][1],
        outcome="reached",
        wellbeing="needs_help",
        needs=[services.NeedLine("medicine", "降压药")],
        by=world["volunteer"],
    )
    log_in(page, staff)
    visit(page, lambda: page.goto(f"/welfare/area/{community.pk}/"))
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "welfare-community-dashboard")
    visit(page, lambda: page.get_by_role("link", name=ui("Needs list")).click())
    assert "降压药" in page.content()
    screenshot(page, "welfare-needs-list")
    visit(page, lambda: page.goto(f"/welfare/area/{community.pk}/people/"))
    visit(page, lambda: page.get_by_role("link", name=re.compile("李建国")).click())
    visit(page, lambda: page.get_by_role("button", name=ui("Add to a supply request")).click())
    assert Need.objects.get().action == Need.Action.REQUISITION
    screenshot(page, "welfare-record-staff")
    visit(page, lambda: page.goto(f"/welfare/area/{community.pk}/access-log/"))
    assert "people_list" in page.content()
