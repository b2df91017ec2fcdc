"""Gates, pick-up points, transfer points and storage places of a compound."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas import services
from baogong.areas.models import Area, Gate
from baogong.core.errors import InvalidInput, NotAllowed
from tests.factories import UserFactory, grant, make_area

pytestmark = pytest.mark.django_db


def staff_user(role, area):
    user = UserFactory()
    grant(user, role, area=area)
    return user


@pytest.fixture
def compound():
    district = make_area(Area.Kind.DISTRICT, None, "测试区")
    street = make_area(Area.Kind.STREET, district, "测试街道")
    community = make_area(Area.Kind.COMMUNITY, street, "测试社区")
    return make_area(Area.Kind.COMPOUND, community, "测试小区")


def test_staff_add_a_building_pickup_point_with_capacity(client, compound):
    building = make_area(Area.Kind.BUILDING, compound, "3号楼")
    client.force_login(staff_user(Role.COMMUNITY_STAFF, compound.parent))
    response = client.post(
        reverse("areas:gate_add", args=[compound.pk]),
        {
            "name": "3号楼门口",
            "kind": Gate.Kind.PICKUP_POINT,
            "building": building.pk,
            "capacity": 4,
        },
    )
    assert response.status_code == 302
    gate = Gate.objects.get(compound=compound)
    assert (gate.building, gate.capacity, gate.kind) == (building, 4, Gate.Kind.PICKUP_POINT)
    page = client.get(reverse("areas:detail", args=[compound.pk]))
    assert "3号楼门口" in page.content.decode()


def test_a_building_of_another_compound_is_refused(compound):
    other = make_area(Area.Kind.COMPOUND, compound.parent, "别的小区")
    building = make_area(Area.Kind.BUILDING, other, "1号楼")
    gate = Gate(compound=compound, name="1号楼门口", building=building)
    with pytest.raises(InvalidInput):
        services.gate_save(gate=gate, by=None)


def test_duplicate_name_and_blank_name_are_refused(compound):
    services.gate_save(gate=Gate(compound=compound, name="东门"), by=None)
    with pytest.raises(InvalidInput):
        services.gate_save(gate=Gate(compound=compound, name=" 东门 "), by=None)
    with pytest.raises(InvalidInput):
        services.gate_save(gate=Gate(compound=compound, name="  "), by=None)


def test_liaison_may_not_edit_places(compound):
    liaison = staff_user(Role.LIAISON, compound)
    with pytest.raises(NotAllowed):
        services.gate_save(gate=Gate(compound=compound, name="西门"), by=liaison)
