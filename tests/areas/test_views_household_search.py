from __future__ import annotations

from django.urls import reverse

from baogong.accounts import scoping
from baogong.accounts.models import Role
from baogong.areas.models import Area
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, make_area

URL = reverse("areas:household_search")


def found(client, **params) -> list:
    response = client.get(URL, params)
    assert response.status_code == 200
    page = response.context["page"]
    return list(page.object_list) if page else []


def test_search_by_building_text_and_room_within_scope(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert found(client, building="3号楼", room="502") == [tree.household_a]
    # The building is matched by its key, whatever word people use for it.
    assert found(client, building="3栋", room="502室") == [tree.household_a]
    assert found(client, building="三号楼") == [tree.household_a]
    assert found(client, building="4号楼") == []


def test_search_by_entrance(client, tree, user_with_role):
    other = HouseholdFactory(building=tree.building_a, unit="1", room="502")
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert found(client, unit="2单元", room="502") == [tree.household_a]
    assert found(client, unit="1") == [other]


def test_search_by_full_phone_or_last_four_digits(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert found(client, phone=tree.household_a.phone) == [tree.household_a]
    assert found(client, phone="+86 " + tree.household_a.phone) == [tree.household_a]
    assert found(client, phone=tree.household_a.phone[-4:]) == [tree.household_a]
    assert found(client, phone=resident.phone) == [tree.household_a]
    assert found(client, phone=resident.phone[-4:]) == [tree.household_a]


def test_search_rejects_a_phone_that_is_neither_full_nor_four_digits(client, tree,
                                                                     user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(URL, {"phone": "12ab"})
    assert response.context["form"].errors["phone"]
    assert response.context["page"] is None


def test_search_with_compound_filter(client, tree, user_with_role):
    client.force_login(user_with_role(Role.DISTRICT_ADMIN, tree.district))
    assert set(found(client, building="3号楼")) == {tree.household_a, tree.household_b}
    assert found(client, building="3号楼", compound=tree.compound_b.pk) == [tree.household_b]


def test_search_never_finds_households_outside_scope(client, tree, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert found(client, building="3号楼", room="502") == [tree.household_b]
    assert found(client, phone=tree.household_a.phone) == []
    # A compound outside scope is not a valid choice either.
    response = client.get(URL, {"room": "502", "compound": tree.compound_a.pk})
    assert response.context["page"] is None or tree.household_a not in list(
        response.context["page"].object_list)


def test_search_shows_full_phones_to_staff_who_phone_people(client, tree, user_with_role):
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    page = client.get(URL, {"room": "502"}).content.decode()
    assert tree.household_a.phone in page


def test_search_masks_phones_otherwise(client, tree, user_with_role, monkeypatch):
    monkeypatch.setattr(scoping, "FULL_PHONE_ROLES", scoping.HOUSEHOLD_ROLES - {Role.VOLUNTEER})
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    page = client.get(URL, {"room": "502"}).content.decode()
    phone = tree.household_a.phone
    assert phone not in page and f"{phone[:3]}****{phone[-4:]}" in page


def test_search_is_paginated(client, tree, user_with_role):
    building = make_area(Area.Kind.BUILDING, tree.compound_a, "8号楼")
    for n in range(30):
        ResidentFactory(household=HouseholdFactory(building=building, room=f"{n + 1}01",
                                                   floor=n + 1))
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    first = client.get(URL, {"building": "8号楼"})
    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 25
    assert "building=8" in first.content.decode()  # the next link keeps the search
    second = client.get(URL, {"building": "8号楼", "page": 2})
    assert len(second.context["page"].object_list) == 5
    # Walking order: floor 1 before floor 10.
    rooms = [h.room for h in first.context["page"].object_list]
    assert rooms[:3] == ["101", "201", "301"]


def test_htmx_search_gets_the_partial(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(URL, {"room": "502"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and 'id="household-search"' in body
    assert tree.household_a.room in body


def test_empty_search_asks_for_a_criterion(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    response = client.get(URL, {"building": "", "phone": ""})
    assert response.context["page"] is None
    assert "Fill in at least one box" in response.content.decode()


def test_search_refuses_bureau_staff_strangers_and_residents(client, tree, user_with_role):
    for user in (user_with_role(Role.BUREAU_STAFF, tree.district), UserFactory(),
                 user_with_role(Role.RESIDENT, tree.household_a)):
        client.force_login(user)
        assert client.get(URL, {"room": "502"}).status_code == 403


def test_search_sends_anonymous_visitors_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
