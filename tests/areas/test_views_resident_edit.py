"""Adding, editing and removing residents on the household page."""

from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Resident
from tests.factories import UserFactory


def add_url(household) -> str:
    return reverse("areas:resident_add", args=[household.pk])


def edit_url(resident) -> str:
    return reverse("areas:resident_edit", args=[resident.pk])


def delete_url(resident) -> str:
    return reverse("areas:resident_delete", args=[resident.pk])


def test_register_keeper_adds_a_resident(client, tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    client.force_login(staff)
    response = client.post(add_url(tree.household_a), {
        "name": " 李四 ", "phone": "139-0013-9000", "special_group": "on",
        "needs_door_delivery": "on"})
    assert response.status_code == 302
    resident = tree.household_a.residents.get(name="李四")
    assert resident.phone == "13900139000" and resident.special_group
    assert resident.history.get().history_user == staff


def test_add_rejects_a_bad_phone_and_writes_nothing(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.post(add_url(tree.household_a), {"name": "李四", "phone": "555"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not Resident.objects.filter(name="李四").exists()
    assert not Resident.history.filter(name="李四").exists()


def test_register_keeper_edits_a_resident(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    response = client.post(edit_url(resident), {"name": resident.name, "phone": "",
                                                "is_contact": "on", "notes": "行动不便"})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.phone == "" and resident.notes == "行动不便"


def test_edit_rejects_a_bad_phone_and_writes_nothing(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    before = resident.history.count()
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.post(edit_url(resident), {"name": "改名", "phone": "not a phone"})
    assert response.status_code == 200
    assert "not a mainland mobile" in str(response.context["form"].errors["phone"])
    resident.refresh_from_db()
    assert resident.name != "改名" and resident.history.count() == before


def test_remove_asks_first_then_removes_with_history(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    client.force_login(staff)
    assert client.get(delete_url(resident)).status_code == 200
    assert Resident.objects.filter(pk=resident.pk).exists()
    response = client.post(delete_url(resident))
    assert response.status_code == 302
    assert not Resident.objects.filter(pk=resident.pk).exists()
    assert Resident.history.filter(id=resident.pk, history_type="-").get().history_user == staff


def test_resident_pages_refuse_liaisons_volunteers_and_strangers(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    for user in (user_with_role(Role.LIAISON, tree.compound_a),
                 user_with_role(Role.VOLUNTEER, tree.building_a), UserFactory()):
        client.force_login(user)
        assert client.get(add_url(tree.household_a)).status_code == 403
        assert client.get(edit_url(resident)).status_code == 403
        assert client.post(delete_url(resident)).status_code == 403
    assert Resident.objects.filter(pk=resident.pk).exists()


def test_resident_pages_outside_scope_are_not_found(client, tree, user_with_role):
    resident_b = tree.household_b.residents.get()
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(add_url(tree.household_b)).status_code == 404
    assert client.get(edit_url(resident_b)).status_code == 404
    assert client.post(delete_url(resident_b)).status_code == 404
    assert Resident.objects.filter(pk=resident_b.pk).exists()


def test_resident_pages_send_anonymous_visitors_to_log_in(client, tree):
    resident = tree.household_a.residents.get()
    for response in (client.get(add_url(tree.household_a)), client.get(edit_url(resident)),
                     client.post(delete_url(resident))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
