"""The Django admin, scoped by role grants (baogong.accounts.admin.ScopedAdmin)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Household, Resident
from baogong.supply.models import Supplier
from tests.factories import ResidentFactory, UserFactory


def staff_user(user_with_role, role, scope) -> User:
    user = user_with_role(role, scope)
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    return user


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("17099990000", "test-pass-123", name="超级管理员")


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def history(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])


def test_every_project_model_has_an_admin_that_loads_for_a_superuser(client, tree, superuser):
    client.force_login(superuser)
    models = [m for m in admin.site._registry
              if m._meta.app_label in ("accounts", "areas", "supply")]
    assert {m.__name__ for m in models} >= {"User", "RoleGrant", "Area", "Gate", "Household",
                                            "Resident", "Supplier"}
    for model in models:
        assert client.get(changelist(model)).status_code == 200, model
        assert client.get(reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_add")).status_code == 200


def test_superuser_sees_every_household(client, tree, superuser):
    client.force_login(superuser)
    response = client.get(changelist(Household))
    assert set(response.context["cl"].queryset) == {tree.household_a, tree.household_b}


def test_staff_see_only_rows_in_their_scope(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(changelist(Household))
    assert list(response.context["cl"].queryset) == [tree.household_a]
    response = client.get(changelist(Resident))
    assert list(response.context["cl"].queryset) == list(tree.household_a.residents.all())
    assert client.get(change(tree.household_a)).status_code == 200
    # Out of scope: the admin answers as for a row that does not exist.
    assert client.get(change(tree.household_b)).status_code == 302
    assert client.get(history(tree.household_b)).status_code == 403


def test_staff_without_back_office_access_cannot_open_the_admin(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(changelist(Household))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_staff_with_a_role_elsewhere_or_none_see_nothing_of_it(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.LIAISON, tree.compound_b))
    response = client.get(changelist(Household))
    assert list(response.context["cl"].queryset) == [tree.household_b]
    stranger = UserFactory(is_staff=True)
    client.force_login(stranger)
    assert client.get(changelist(Household)).status_code == 403


def test_household_choices_are_limited_to_buildings_in_scope(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    form = client.get(change(tree.household_a)).context["adminform"].form
    assert list(form.fields["building"].queryset) == [tree.building_a]
    autocomplete = client.get(reverse("admin:autocomplete"), {
        "app_label": "areas", "model_name": "household", "field_name": "building", "term": "3"})
    assert [r["id"] for r in autocomplete.json()["results"]] == [str(tree.building_a.pk)]


def household_post(household: Household, **changes) -> dict:
    data = {"building": household.building_id, "unit": household.unit, "room": household.room,
            "floor": "", "members_count": household.members_count, "phone": household.phone,
            "phone_alt": "", "containment": household.containment, "containment_since": "",
            "containment_until": "", "notes": "",
            "residents-TOTAL_FORMS": "0", "residents-INITIAL_FORMS": "0"}
    data.update(changes)
    return data


def test_admin_household_changes_go_through_the_service(client, tree, user_with_role):
    staff = staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a)
    client.force_login(staff)
    response = client.post(change(tree.household_a),
                           household_post(tree.household_a, phone="+86 138 0013 8000"))
    assert response.status_code == 302
    household = Household.objects.get(pk=tree.household_a.pk)
    assert household.phone == "13800138000" and household.floor == 5  # household_save's work
    assert household.history.latest().history_user == staff


def test_admin_rejects_a_bad_phone_and_writes_nothing(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    before = tree.household_a.history.count()
    response = client.post(change(tree.household_a),
                           household_post(tree.household_a, phone="12345"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"]
    assert Household.objects.get(pk=tree.household_a.pk).phone == tree.household_a.phone
    assert tree.household_a.history.count() == before


def test_admin_cannot_move_a_household_out_of_scope(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    response = client.post(change(tree.household_a), household_post(
        tree.household_a, building=tree.building_b.pk))
    assert response.status_code == 200
    assert Household.objects.get(pk=tree.household_a.pk).building == tree.building_a


def test_liaisons_may_look_but_not_change(client, tree, user_with_role):
    client.force_login(staff_user(user_with_role, Role.LIAISON, tree.compound_a))
    response = client.post(change(tree.household_a),
                           household_post(tree.household_a, members_count=7))
    assert response.status_code == 403
    assert Household.objects.get(pk=tree.household_a.pk).members_count == 2


def test_admin_resident_delete_goes_through_the_service(client, tree, user_with_role):
    staff = staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a)
    resident = tree.household_a.residents.get()
    client.force_login(staff)
    url = reverse("admin:areas_resident_delete", args=[resident.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Resident.objects.filter(pk=resident.pk).exists()
    assert Resident.history.get(id=resident.pk, history_type="-").history_user == staff


def test_special_care_flag_hidden_in_admin_from_liaisons(client, tree, user_with_role):
    ResidentFactory(household=tree.household_a, name="王奶奶", special_group=True,
                    is_contact=False)
    client.force_login(staff_user(user_with_role, Role.LIAISON, tree.compound_a))
    response = client.get(changelist(Resident))
    assert "special_group" not in response.context["cl"].list_display
    resident = Resident.objects.get(name="王奶奶")
    page = client.get(change(resident)).content.decode()
    assert "special-care" not in page
    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    assert "special_group" in client.get(changelist(Resident)).context["cl"].list_display


def test_user_pages_never_show_a_password_hash(client, tree, superuser, user_with_role):
    other = user_with_role(Role.LIAISON, tree.compound_a)
    client.force_login(superuser)
    page = client.get(change(other)).content.decode()
    assert "pbkdf2" not in page and other.password not in page
    assert other.password.split("$")[-1][:6] not in page


def test_account_admins_see_only_accounts_they_manage(client, tree, user_with_role):
    inside = user_with_role(Role.LIAISON, tree.compound_a)
    outside = user_with_role(Role.LIAISON, tree.compound_b)
    staff = staff_user(user_with_role, Role.STREET_STAFF, tree.street_a)
    client.force_login(staff)
    users = set(client.get(changelist(User)).context["cl"].queryset)
    assert inside in users and outside not in users
    grants = set(client.get(changelist(RoleGrant)).context["cl"].queryset)
    assert grants == set(inside.grants.all())
    assert client.get(change(outside)).status_code == 302
    # Temporary passwords come from the accounts pages, not the admin's password form.
    url = reverse("admin:auth_user_password_change", args=[inside.pk])
    assert client.get(url).status_code == 403


def test_supplier_contacts_see_only_their_supplier(client, tree, user_with_role):
    own = Supplier.objects.create(name="好邻居超市", kind=Supplier.Kind.SMALL_SHOP)
    Supplier.objects.create(name="别家超市", kind=Supplier.Kind.SMALL_SHOP)
    client.force_login(staff_user(user_with_role, Role.SUPPLIER, own))
    assert list(client.get(changelist(Supplier)).context["cl"].queryset) == [own]


def area_post(parent, kind, name) -> dict:
    return {"parent": parent.pk, "kind": kind, "name": name, "code": "", "units_count": 0,
            "containment": "none", "containment_since": "", "containment_until": "",
            "cadence_days": 3, "latitude": "", "longitude": ""}


def test_admin_adds_areas_through_area_create_within_scope_only(client, tree, user_with_role):
    from baogong.areas.models import Area

    client.force_login(staff_user(user_with_role, Role.COMMUNITY_STAFF, tree.community_a))
    url = reverse("admin:areas_area_add")
    response = client.post(url, area_post(tree.community_a, "compound", "新建小区"))
    assert response.status_code == 302
    created = Area.objects.get(name="新建小区")
    assert created.path == f"{tree.community_a.path}{created.pk}/"
    # A kind that does not belong there is refused with a message, nothing written.
    response = client.post(url, area_post(tree.community_a, "building", "错层楼"), follow=True)
    assert "cannot be placed" in response.content.decode()
    assert not Area.objects.filter(name="错层楼").exists()
    # Outside scope the parent is not a choice.
    response = client.post(url, area_post(tree.community_b, "compound", "别人的小区"))
    assert response.status_code == 200 and response.context["adminform"].form.errors["parent"]
    assert not Area.objects.filter(name="别人的小区").exists()
