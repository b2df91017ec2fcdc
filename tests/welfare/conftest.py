from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.welfare import services
from baogong.welfare.models import Category
from tests.factories import HouseholdFactory, ResidentFactory, make_area
from tests.orders.conftest import open_round, packages, supplier  # noqa: F401


@pytest.fixture
def volunteer(tree, user_with_role):
    """A building volunteer assigned to the record below."""
    return user_with_role(Role.VOLUNTEER, tree.building_a)


@pytest.fixture
def staff(tree, user_with_role):
    return user_with_role(Role.COMMUNITY_STAFF, tree.community_a)


@pytest.fixture
def care(tree, volunteer):
    resident = tree.household_a.residents.get()
    return services.care_save(
        resident=resident,
        details=services.CareDetails(
            categories=[Category.ELDERLY_ALONE, Category.CHRONIC_ILLNESS],
            medicines="降压药",
            emergency_name="测试家属",
            emergency_phone="17000009999",
            needs_door_delivery=True,
            volunteer_ids=[volunteer.pk],
        ),
        by=None,
    )


@pytest.fixture
def other_building_volunteer(tree, user_with_role):
    """A volunteer of another building of the same compound, granted on the compound too."""
    building = make_area("building", tree.compound_a, "5号楼")
    household = HouseholdFactory(building=building, unit="1", room="101")
    ResidentFactory(household=household)
    user = user_with_role(Role.VOLUNTEER, building)
    from tests.factories import grant

    grant(user, Role.VOLUNTEER, area=tree.compound_a)
    return user
