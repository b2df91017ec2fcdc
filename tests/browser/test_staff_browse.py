"""Community staff on a phone: log in, walk the tree down to a household, find one."""

from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.areas import services
from baogong.areas.models import Area, Containment, Gate
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = ["张建国", "李秀英", "王桂兰", "刘伟", "陈静", "杨明", "赵敏", "黄丽"]


@pytest.fixture
def neighbourhood():
    """A community with two compounds; 幸福小区 has sealed and open buildings and gates."""
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    make_area(Area.Kind.COMPOUND, community, "滨江花园")
    Gate.objects.create(compound=compound, name="东门", notes="物资接驳点，早8点至晚6点")
    Gate.objects.create(compound=compound, name="北门", kind=Gate.Kind.PICKUP_POINT)
    make_area(Area.Kind.BUILDING, compound, "1号楼", units_count=2,
              containment=Containment.SEALED)
    make_area(Area.Kind.BUILDING, compound, "2号楼", units_count=2)
    building = make_area(Area.Kind.BUILDING, compound, "3号楼", units_count=2,
                         containment=Containment.CONTROLLED)
    households = []
    for n, (unit, room) in enumerate([("1", "101"), ("1", "102"), ("1", "201"),
                                      ("2", "501"), ("2", "502"), ("2", "601")]):
        household = HouseholdFactory(building=building, unit=unit, room=room,
                                     floor=int(room[:-2]), members_count=1 + n % 4)
        ResidentFactory(household=household, name=PEOPLE[n])
        households.append(household)
    ResidentFactory(household=households[4], name="周奶奶", is_contact=False,
                    special_group=True, needs_door_delivery=True, phone="")
    staff = UserFactory(name="刘红梅")
    grant(staff, Role.COMMUNITY_STAFF, area=community)
    household = households[4]
    household.notes = "老人独居，需送货上门"
    household.members_count = 2
    services.household_save(household=household, by=staff)
    return {"staff": staff, "compound": compound, "building": building,
            "household": household}


def test_community_staff_walk_from_their_area_to_a_household(
        phone_page, neighbourhood, log_in, visit, screenshot):
    page = phone_page
    log_in(page, neighbourhood["staff"])
    visit(page, lambda: None)  # the start page after logging in: the user's areas
    assert page.get_by_role("heading", name=ui("Your areas")).is_visible()
    screenshot(page, "staff-areas")

    visit(page, lambda: page.get_by_role("link", name="风华社区").click())
    assert page.get_by_role("link", name="幸福小区").is_visible()

    visit(page, lambda: page.get_by_role("link", name="幸福小区").click())
    assert page.get_by_text("东门", exact=True).is_visible()
    assert page.get_by_text(ui("sealed zone")).first.is_visible()
    screenshot(page, "staff-area-browser")

    visit(page, lambda: page.get_by_role("link", name="3号楼").click())
    assert page.get_by_role("heading", name="3号楼").is_visible()
    screenshot(page, "staff-building")

    household = neighbourhood["household"]
    visit(page, lambda: page.locator(
        f'a[href$="/areas/households/{household.pk}/"]').click())
    assert page.locator(".resident-list").get_by_text("周奶奶", exact=True).is_visible()
    assert page.get_by_text(household.phone).first.is_visible()  # full: staff phone people
    assert page.get_by_text(ui("special-care resident")).first.is_visible()
    assert page.get_by_text("刘红梅").first.is_visible()  # who made the last change
    screenshot(page, "staff-household")


def test_community_staff_find_a_household_by_building_and_room(
        phone_page, neighbourhood, log_in, visit, screenshot):
    page = phone_page
    log_in(page, neighbourhood["staff"])
    visit(page, lambda: page.goto("/areas/households/"))
    page.get_by_label(ui("Building"), exact=True).fill("3栋")
    page.get_by_label(ui("Room"), exact=True).fill("502")
    visit(page, lambda: page.get_by_role("button", name=ui("Search")).click())
    results = page.locator("#results")
    assert results.get_by_text("3号楼2单元502").is_visible()
    screenshot(page, "staff-household-search")
