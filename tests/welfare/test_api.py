from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.orders.api_auth import api_client_create
from baogong.supply.models import Supplier
from baogong.welfare.models import AccessLog

pytestmark = pytest.mark.django_db


def test_supplier_tokens_cannot_read_special_care(client, care):
    supplier = Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)
    _client, token = api_client_create(supplier=supplier, name="平台")
    for url in (reverse("api:welfare_care", args=[care.pk]), reverse("api:welfare_calls")):
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert not AccessLog.objects.exists()


def test_only_allowed_users_read_through_the_api_and_reads_are_logged(
    client, care, volunteer, staff, outsiders_api
):
    url = reverse("api:welfare_care", args=[care.pk])
    for user in outsiders_api:
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(reverse("api:welfare_calls")).json() == []
    assert not AccessLog.objects.exists()
    client.force_login(volunteer)
    body = client.get(url).json()
    assert body["name"] == care.resident.name and body["medicines"] == "降压药"
    calls = client.get(reverse("api:welfare_calls")).json()
    assert [c["id"] for c in calls] == [care.pk]
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert set(AccessLog.objects.values_list("user_id", "view")) == {
        (volunteer.pk, "api_detail"),
        (volunteer.pk, "api_calls"),
        (staff.pk, "api_detail"),
    }


@pytest.fixture
def outsiders_api(tree, user_with_role, other_building_volunteer):
    supplier = Supplier.objects.create(name="另一超市", kind=Supplier.Kind.SUPERMARKET)
    return [
        other_building_volunteer,
        user_with_role("volunteer", tree.building_a),
        user_with_role("supplier", supplier),
        user_with_role("resident", tree.household_a),
        user_with_role("community_staff", tree.community_b),
        user_with_role("street_staff", tree.street_a),
    ]
