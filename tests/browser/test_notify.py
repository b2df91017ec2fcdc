"""A resident reads messages on a phone; a community worker prints the call list."""

from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.notify.models import Message
from baogong.notify.services import send
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _compound():
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    building = make_area(Area.Kind.BUILDING, compound, "3号楼")
    return community, building


def test_resident_reads_messages(phone_page, log_in, visit, screenshot):
    _community, building = _compound()
    household = HouseholdFactory(building=building, unit="2", room="502")
    user = UserFactory(name="陈静")
    grant(user, Role.RESIDENT, household=household)
    send(
        "order_confirmed",
        households=[household.pk],
        dedupe_key="c",
        link="/my-orders/",
        context={
            "round_title": "第1期 保供套餐",
            "pickup_code": "K7PQ2M",
            "amount": "127.90",
            "delivery_at": "11-29 09:00",
        },
    )
    send(
        "payment_due",
        households=[household.pk],
        dedupe_key="p",
        context={"round_title": "第1期 保供套餐", "amount": "127.90", "deadline": "11-28 20:00"},
    )

    page = phone_page
    log_in(page, user)
    visit(page, lambda: page.goto("/notify/"))
    assert page.get_by_role("status").inner_text().strip().startswith("2")
    screenshot(page, "notify-inbox")
    button = page.locator(".notify-item", has_text="K7PQ2M").get_by_role("button")
    visit(page, lambda: button.click())
    assert page.url.endswith("/my-orders/")
    visit(page, lambda: page.goto("/notify/"))
    assert page.get_by_role("status").inner_text().strip().startswith("1")


def test_worker_sees_the_call_list(phone_page, log_in, visit, screenshot):
    community, building = _compound()
    no_phone = HouseholdFactory(building=building, unit="1", room="101", phone="", phone_alt="")
    ResidentFactory(household=no_phone, name="周奶奶", phone="")
    landline = HouseholdFactory(building=building, unit="1", room="102", phone="0710-3456789")
    ResidentFactory(household=landline, name="王爷爷", phone="")
    send(
        "order_dropped",
        households=[no_phone.pk, landline.pk],
        dedupe_key="d",
        context={"round_title": "第1期 保供套餐", "pickup_code": "K7PQ2M"},
    )
    worker = UserFactory(name="李社工")
    grant(worker, Role.COMMUNITY_STAFF, area=community)

    page = phone_page
    log_in(page, worker)
    visit(page, lambda: page.get_by_role("link", name=ui("Messages to pass on")).click())
    assert page.get_by_text("周奶奶").is_visible() and page.get_by_text("0710-3456789").is_visible()
    screenshot(page, "notify-call-list")
    # Printed: no navigation or buttons, a box to tick per household.
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name=ui("Print")).is_visible()
    assert page.get_by_text(ui("Told") + " ☐").first.is_visible()
    screenshot(page, "notify-call-list-print")
    page.emulate_media(media="screen")
    visit(page, lambda: page.get_by_role("button", name=ui("Told") + " 3号楼1单元101").click())
    assert page.get_by_text("周奶奶").count() == 0

    sms = HouseholdFactory(building=building, unit="2", room="201")
    send(
        "order_dropped",
        households=[sms.pk],
        dedupe_key="e",
        context={"round_title": "第1期 保供套餐", "pickup_code": "Q3WX9Z"},
    )
    Message.objects.filter(channel=Message.Channel.SMS).update(
        state=Message.State.FAILED, attempts=5, last_error="HTTP 503"
    )
    visit(
        page, lambda: page.get_by_role("link", name=ui("SMS that could not be delivered")).click()
    )
    assert page.get_by_text("HTTP 503").is_visible()
    assert page.get_by_text(sms.phone).count() == 0
    screenshot(page, "notify-failed-sms")
    visit(page, lambda: page.get_by_role("button", name=ui("Send all again")).click())
    assert Message.objects.get(channel=Message.Channel.SMS).state == Message.State.PENDING
