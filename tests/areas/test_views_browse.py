from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Area, Containment
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

URL = reverse("areas:browse")


def test_browse_lists_the_users_root_areas_with_counts(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(URL)
    assert response.status_code == 200
    [summary] = response.context["summaries"]
    assert summary.area == tree.community_a
    counts = summary.counts
    assert (counts.compounds, counts.buildings, counts.households, counts.residents) == (1, 1, 1, 1)
    page = response.content.decode()
    assert "社区a" in page and "社区b" not in page


def test_browse_for_a_role_elsewhere_shows_only_that_part_of_the_tree(client, tree,
                                                                      user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    response = client.get(URL)
    assert [s.area for s in response.context["summaries"]] == [tree.compound_b]
    assert "小区a" not in response.content.decode()


def test_browse_counts_sealed_buildings_and_shows_status_in_words(client, tree, user_with_role):
    Area.objects.filter(pk=tree.building_a.pk).update(containment=Containment.SEALED)
    make_area(Area.Kind.BUILDING, tree.compound_a, "5号楼")
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    response = client.get(URL)
    [summary] = response.context["summaries"]
    assert summary.counts.buildings == 2
    assert summary.counts.sealed_buildings == 1
    assert "1 sealed building" in response.content.decode()


def test_browse_refuses_users_without_an_area_role(client, tree, user_with_role):
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.get(URL).status_code == 403


def test_browse_sends_anonymous_visitors_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_browse_query_count_does_not_grow_with_the_tree(client, tree, user_with_role,
                                                        django_assert_max_num_queries):
    for n in range(8):
        compound = make_area(Area.Kind.COMPOUND, tree.community_a, f"新小区{n}")
        building = make_area(Area.Kind.BUILDING, compound, "1号楼")
        for _ in range(3):
            ResidentFactory(household=HouseholdFactory(building=building))
    user = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    client.force_login(user)
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    [summary] = response.context["summaries"]
    assert summary.counts.households == 2 + 8 * 3
    assert summary.counts.residents == 2 + 8 * 3


def test_browse_counts_roots_at_different_levels(client, tree, user_with_role):
    user = user_with_role(Role.LIAISON, tree.compound_a)
    grant(user, Role.VOLUNTEER, area=tree.building_b)
    ResidentFactory(household=HouseholdFactory(building=tree.building_b))
    client.force_login(user)
    summaries = {s.area: s.counts for s in client.get(URL).context["summaries"]}
    assert set(summaries) == {tree.compound_a, tree.building_b}
    assert (summaries[tree.compound_a].households, summaries[tree.compound_a].residents) == (1, 1)
    assert (summaries[tree.building_b].households, summaries[tree.building_b].residents) == (2, 2)
    assert summaries[tree.building_b].compounds == 0
