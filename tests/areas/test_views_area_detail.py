from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts import scoping
from baogong.accounts.models import Role
from baogong.areas.models import Area, Containment, Gate
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, make_area


def url(area: Area) -> str:
    return reverse("areas:detail", args=[area.pk])


def test_compound_page_lists_buildings_with_counts_and_gates(client, tree, user_with_role):
    Gate.objects.create(compound=tree.compound_a, name="东门")
    sealed = make_area(Area.Kind.BUILDING, tree.compound_a, "10号楼",
                       containment=Containment.SEALED)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(url(tree.compound_a))
    assert response.status_code == 200
    children = response.context["children"]
    assert [s.area for s in children] == [tree.building_a, sealed]  # 3号楼 before 10号楼
    assert children[0].counts.households == 1 and children[0].counts.residents == 1
    assert response.context["totals"].sealed_buildings == 1
    page = response.content.decode()
    assert "东门" in page
    assert "sealed zone" in page  # the status in words, not colour only


def test_breadcrumbs_show_only_ancestors_the_user_may_open(client, tree, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(url(tree.building_a))
    assert response.context["breadcrumbs"] == [tree.compound_a]
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    response = client.get(url(tree.building_a))
    assert response.context["breadcrumbs"] == [tree.street_a, tree.community_a, tree.compound_a]


def test_building_page_lists_households_with_full_phones_for_staff(client, tree,
                                                                   user_with_role):
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    response = client.get(url(tree.building_a))
    assert response.status_code == 200
    assert response.context["households"] == [tree.household_a]
    page = response.content.decode()
    assert tree.household_a.phone in page
    assert reverse("areas:household_detail", args=[tree.household_a.pk]) in page


def test_building_page_masks_phones_for_roles_that_do_not_phone_people(
        client, tree, user_with_role, monkeypatch):
    monkeypatch.setattr(scoping, "FULL_PHONE_ROLES",
                        scoping.HOUSEHOLD_ROLES - {Role.LIAISON})
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    page = client.get(url(tree.building_a)).content.decode()
    phone = tree.household_a.phone
    assert phone not in page
    assert f"{phone[:3]}****{phone[-4:]}" in page


def test_bureau_staff_see_counts_but_not_households(client, tree, user_with_role):
    client.force_login(user_with_role(Role.BUREAU_STAFF, tree.district))
    response = client.get(url(tree.building_a))
    assert response.status_code == 200
    assert response.context["households"] == []
    assert response.context["totals"].households == 1
    assert tree.household_a.phone[-4:] not in response.content.decode()


def test_area_outside_the_users_scope_is_not_found(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(url(tree.compound_b)).status_code == 404
    assert client.get(url(tree.district)).status_code == 404
    assert client.get(reverse("areas:detail", args=[999999])).status_code == 404


def test_area_page_refuses_strangers_and_residents(client, tree, user_with_role):
    client.force_login(UserFactory())
    assert client.get(url(tree.compound_a)).status_code == 403
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.get(url(tree.building_a)).status_code == 403


def test_area_page_sends_anonymous_visitors_to_log_in(client, tree):
    response = client.get(url(tree.compound_a))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("node", ["district", "community_a", "compound_a", "building_a"])
def test_area_page_query_count_does_not_grow_with_children_or_households(
        client, tree, user_with_role, django_assert_max_num_queries, node):
    for n in range(6):
        building = make_area(Area.Kind.BUILDING, tree.compound_a, f"{n + 20}号楼")
        for _ in range(4):
            ResidentFactory(household=HouseholdFactory(building=building))
        compound = make_area(Area.Kind.COMPOUND, tree.community_a, f"另一小区{n}")
        make_area(Area.Kind.BUILDING, compound, "1号楼")
    for _ in range(12):
        ResidentFactory(household=HouseholdFactory(building=tree.building_a))
    client.force_login(user_with_role(Role.DISTRICT_ADMIN, tree.district))
    # Session, user, grants, the node, breadcrumbs, children, four counts, gates,
    # and the unread-messages count in the menu.
    with django_assert_max_num_queries(12):
        response = client.get(url(getattr(tree, node)))
    assert response.status_code == 200


def test_community_totals_add_up_over_compounds(client, tree, user_with_role):
    second = make_area(Area.Kind.COMPOUND, tree.community_a, "小区a2")
    for name in ("1号楼", "2号楼"):
        building = make_area(Area.Kind.BUILDING, second, name)
        household = HouseholdFactory(building=building)
        ResidentFactory(household=household)
        ResidentFactory(household=household)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    totals = client.get(url(tree.community_a)).context["totals"]
    assert (totals.compounds, totals.buildings, totals.households, totals.residents) == (
        2, 3, 3, 5)
