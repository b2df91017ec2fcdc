from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role, User
from tests.factories import UserFactory


def test_account_list_shows_people_in_scope_only(client, tree, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    inside = user_with_role(Role.LIAISON, tree.compound_a)
    outside = user_with_role(Role.LIAISON, tree.compound_b)
    client.force_login(staff)
    page = client.get(reverse("accounts:list")).content.decode()
    assert inside.name in page and outside.name not in page


def test_account_list_refuses_roles_that_manage_nobody(client, tree, user_with_role):
    for role, node in ((Role.LIAISON, tree.compound_a), (Role.BUREAU_STAFF, tree.district)):
        client.force_login(user_with_role(role, node))
        assert client.get(reverse("accounts:list")).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:list")).status_code == 403


def test_create_account_on_an_area_shows_temporary_password_once(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    url = reverse("accounts:create", args=[tree.compound_a.pk])
    response = client.post(
        url, {"name": "新联络人", "phone": "170 0008 0001", "role": Role.LIAISON}
    )
    assert response.status_code == 200
    user = User.objects.get(phone="17000080001")
    assert user.check_password(response.context["password"])
    assert user.grants.get().area == tree.compound_a


def test_create_account_form_errors_stay_on_the_page(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    url = reverse("accounts:create", args=[tree.compound_a.pk])
    response = client.post(url, {"name": "某人", "phone": "123", "role": Role.LIAISON})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not User.objects.filter(name="某人").exists()


def test_create_account_outside_scope_is_not_found(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(reverse("accounts:create", args=[tree.compound_b.pk])).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:create", args=[tree.compound_a.pk])).status_code == 404


def test_resident_account_for_own_register_only(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    ok = client.post(
        reverse("accounts:resident_create", args=[tree.household_a.pk]),
        {"name": "居民", "phone": "17000080002", "role": Role.RESIDENT},
    )
    assert ok.status_code == 200
    assert User.objects.get(phone="17000080002").grants.get().household == tree.household_a
    other = client.get(reverse("accounts:resident_create", args=[tree.household_b.pk]))
    assert other.status_code == 404


def test_reset_password_and_revoke(client, tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    volunteer = user_with_role(Role.VOLUNTEER, tree.building_a)
    stranger_volunteer = user_with_role(Role.VOLUNTEER, tree.building_b)
    client.force_login(staff)
    response = client.post(reverse("accounts:reset_password", args=[volunteer.pk]))
    volunteer.refresh_from_db()
    assert volunteer.check_password(response.context["password"])
    assert (
        client.post(reverse("accounts:reset_password", args=[stranger_volunteer.pk])).status_code
        == 404
    )
    grant = volunteer.grants.get()
    assert client.post(reverse("accounts:revoke", args=[grant.pk])).status_code == 302
    assert not volunteer.grants.exists()
    other_grant = stranger_volunteer.grants.get()
    assert client.post(reverse("accounts:revoke", args=[other_grant.pk])).status_code == 404
