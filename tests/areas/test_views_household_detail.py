from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from baogong.accounts import scoping
from baogong.accounts.models import Role
from baogong.areas import services
from baogong.areas.models import Area, Containment, Household
from tests.factories import ResidentFactory, UserFactory


def url(household: Household) -> str:
    return reverse("areas:household_detail", args=[household.pk])


def test_household_page_shows_address_people_and_containment(client, tree, user_with_role):
    Area.objects.filter(pk=tree.building_a.pk).update(containment=Containment.SEALED)
    resident = tree.household_a.residents.get()
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(url(tree.household_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "小区a" in page and "3号楼" in page and "502" in page
    assert resident.name in page
    assert tree.household_a.phone in page and resident.phone in page  # full for liaisons
    assert "sealed zone" in page  # effective status: the building's
    assert response.context["breadcrumbs"] == [tree.compound_a, tree.building_a]


def test_household_page_masks_phones_for_roles_without_full_phone_rights(
        client, tree, user_with_role, monkeypatch):
    monkeypatch.setattr(scoping, "FULL_PHONE_ROLES", scoping.HOUSEHOLD_ROLES - {Role.LIAISON})
    resident = tree.household_a.residents.get()
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    page = client.get(url(tree.household_a)).content.decode()
    for phone in (tree.household_a.phone, resident.phone):
        assert phone not in page
        assert f"{phone[:3]}****{phone[-4:]}" in page


def test_special_care_flag_is_shown_to_community_staff(client, tree, user_with_role):
    ResidentFactory(household=tree.household_a, name="王奶奶", special_group=True,
                    is_contact=False)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(url(tree.household_a))
    assert response.context["special_care"] is True
    assert "special-care resident" in response.content.decode()


@pytest.mark.parametrize("role, node", [
    (Role.LIAISON, "compound_a"),
    (Role.VOLUNTEER, "building_a"),  # assigned volunteers see their people on welfare pages
    (Role.STREET_STAFF, "street_a"),  # above the community: counts only
])
def test_special_care_flag_is_hidden_from_other_roles(client, tree, user_with_role, role, node):
    ResidentFactory(household=tree.household_a, name="王奶奶", special_group=True,
                    is_contact=False)
    client.force_login(user_with_role(role, getattr(tree, node)))
    response = client.get(url(tree.household_a))
    assert response.context["special_care"] is False
    assert "special-care resident" not in response.content.decode()


def test_history_shows_what_changed_who_changed_it_and_when(client, tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    household = Household.objects.get(pk=tree.household_a.pk)
    household.phone = "13800138000"
    household.members_count = 4
    services.household_save(household=household, by=staff)
    client.force_login(staff)
    response = client.get(url(tree.household_a))
    newest = response.context["history"][0]
    assert newest.who == staff.name
    changes = {change.field: (change.old, change.new) for change in newest.changes}
    assert changes["members"] == ("2", "4")
    assert changes["contact phone"] == (tree.household_a.phone, "13800138000")
    page = response.content.decode()
    assert staff.name in page and "13800138000" in page
    shanghai = newest.when.astimezone(ZoneInfo("Asia/Shanghai"))
    assert shanghai.strftime("%Y-%m-%d %H:%M") in page


def test_history_includes_residents_and_hides_special_care_changes_from_liaisons(
        client, tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    resident = tree.household_a.residents.get()
    resident.special_group = True
    services.resident_save(resident=resident, by=staff)
    resident.needs_door_delivery = True
    services.resident_save(resident=resident, by=staff)
    client.force_login(staff)
    fields = [c.field for e in client.get(url(tree.household_a)).context["history"]
              for c in e.changes]
    assert "special-care resident" in fields and "needs door delivery" in fields
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    history = client.get(url(tree.household_a)).context["history"]
    fields = [c.field for e in history for c in e.changes]
    assert "special-care resident" not in fields and "needs door delivery" in fields


def test_edit_links_only_for_register_keepers(client, tree, user_with_role):
    edit = reverse("areas:household_edit", args=[tree.household_a.pk])
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert edit in client.get(url(tree.household_a)).content.decode()
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    assert edit not in client.get(url(tree.household_a)).content.decode()


def test_household_outside_scope_is_not_found(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(url(tree.household_b)).status_code == 404
    assert client.get(reverse("areas:household_detail", args=[999999])).status_code == 404


def test_household_page_refuses_strangers_bureau_and_residents(client, tree, user_with_role):
    for user in (UserFactory(), user_with_role(Role.BUREAU_STAFF, tree.district),
                 user_with_role(Role.RESIDENT, tree.household_a)):
        client.force_login(user)
        assert client.get(url(tree.household_a)).status_code == 403


def test_household_page_sends_anonymous_visitors_to_log_in(client, tree):
    response = client.get(url(tree.household_a))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
