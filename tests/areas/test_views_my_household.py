from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role
from tests.factories import UserFactory

URL = reverse("areas:my_household")


def test_resident_sees_their_household_with_full_phones(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    response = client.get(URL)
    assert response.status_code == 200
    assert list(response.context["households"]) == [tree.household_a]
    page = response.content.decode()
    assert "小区a" in page and "3号楼2单元502" in page
    assert resident.name in page and resident.phone in page
    assert tree.household_a.phone in page
    assert "小区b" not in page
    assert tree.household_b.residents.get().name not in page


def test_resident_page_does_not_show_special_care_flags(client, tree, user_with_role):
    resident = tree.household_a.residents.get()
    resident.special_group = True
    resident.save()
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert "special-care" not in client.get(URL).content.decode()


def test_staff_without_a_household_and_strangers_are_refused(client, tree, user_with_role):
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(URL).status_code == 403
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_resident_of_another_household_sees_only_their_own(client, tree, user_with_role):
    client.force_login(user_with_role(Role.RESIDENT, tree.household_b))
    page = client.get(URL).content.decode()
    assert "小区b" in page and "小区a" not in page


def test_my_household_sends_anonymous_visitors_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
