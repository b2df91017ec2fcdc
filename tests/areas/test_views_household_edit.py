from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Household
from tests.factories import HouseholdFactory, UserFactory


def url(household: Household) -> str:
    return reverse("areas:household_edit", args=[household.pk])


def form_data(household: Household, **changes) -> dict:
    data = {"unit": household.unit, "room": household.room,
            "members_count": household.members_count, "phone": household.phone,
            "phone_alt": household.phone_alt, "containment": household.containment,
            "containment_since": "", "containment_until": "", "notes": household.notes}
    data.update(changes)
    return data


def test_register_keeper_edits_a_household_through_the_service(client, tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    client.force_login(staff)
    response = client.post(url(tree.household_a), form_data(
        tree.household_a, phone="138 0013 8000", members_count=3, containment="sealed",
        containment_since="2026-04-01"))
    assert response.status_code == 302
    assert response.url == reverse("areas:household_detail", args=[tree.household_a.pk])
    household = Household.objects.get(pk=tree.household_a.pk)
    assert household.phone == "13800138000"  # normalised by household_save
    assert household.members_count == 3 and household.containment == "sealed"
    assert household.history.latest().history_user == staff


def test_edit_form_rejects_a_bad_phone_on_the_field_and_writes_nothing(client, tree,
                                                                       user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    before = tree.household_a.history.count()
    response = client.post(url(tree.household_a), form_data(
        tree.household_a, phone="12345", members_count=5))
    assert response.status_code == 200
    assert "not a mainland mobile or landline number" in str(
        response.context["form"].errors["phone"])
    household = Household.objects.get(pk=tree.household_a.pk)
    assert household.phone == tree.household_a.phone and household.members_count == 2
    assert household.history.count() == before


def test_edit_form_reports_a_room_already_taken(client, tree, user_with_role):
    HouseholdFactory(building=tree.building_a, unit="2", room="601")
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.post(url(tree.household_a), form_data(tree.household_a, room="601"))
    assert response.status_code == 200
    assert "already has a household" in str(response.context["form"].non_field_errors())
    assert Household.objects.get(pk=tree.household_a.pk).room == "502"


def test_edit_is_refused_to_roles_that_do_not_keep_the_register(client, tree, user_with_role):
    for role, node in ((Role.LIAISON, tree.compound_a), (Role.VOLUNTEER, tree.building_a)):
        client.force_login(user_with_role(role, node))
        assert client.get(url(tree.household_a)).status_code == 403
        response = client.post(url(tree.household_a), form_data(tree.household_a,
                                                                members_count=9))
        assert response.status_code == 403
    assert Household.objects.get(pk=tree.household_a.pk).members_count == 2


def test_edit_outside_scope_is_not_found(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(url(tree.household_b)).status_code == 404


def test_edit_refuses_strangers_and_anonymous(client, tree):
    client.force_login(UserFactory())
    assert client.get(url(tree.household_a)).status_code == 403
    client.logout()
    response = client.post(url(tree.household_a), form_data(tree.household_a))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
