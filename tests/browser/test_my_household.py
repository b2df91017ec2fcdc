"""A resident on a small phone opens their own household."""

from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.areas.models import Area, Containment
from tests.browser.conftest import ui
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_sees_their_household_in_large_type(phone_page, log_in, visit, screenshot):
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    building = make_area(Area.Kind.BUILDING, compound, "3号楼", containment=Containment.SEALED)
    household = HouseholdFactory(building=building, unit="2", room="502", members_count=2)
    ResidentFactory(household=household, name="陈静")
    ResidentFactory(household=household, name="周奶奶", is_contact=False, special_group=True)
    user = UserFactory(name="陈静")
    grant(user, Role.RESIDENT, household=household)

    page = phone_page
    log_in(page, user)
    visit(page, lambda: page.get_by_role("link", name=ui("My household")).click())
    assert page.get_by_role("heading", name=ui("My household")).is_visible()
    assert page.get_by_text("3号楼2单元502").is_visible()
    assert page.get_by_text(ui("sealed zone")).is_visible()
    assert page.get_by_text(household.phone).first.is_visible()
    assert page.get_by_text(ui("special-care resident")).count() == 0
    font_size = page.eval_on_selector(".resident-page", "el => getComputedStyle(el).fontSize")
    assert float(font_size.removesuffix("px")) >= 20
    screenshot(page, "resident-my-household")
