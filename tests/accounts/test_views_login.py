from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory(phone="17000001234")


@pytest.mark.parametrize("typed", ["17000001234", "170 0000 1234", "+86 170-0000-1234"])
def test_login_accepts_the_number_written_any_usual_way(client, person, typed):
    response = client.post(
        reverse("accounts:login"), {"username": typed, "password": "test-pass-123"}
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(person.pk)


def test_wrong_password_says_so_in_chinese_by_default(client, person, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.post(
        reverse("accounts:login"), {"username": person.phone, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "手机号或密码错误" in response.content.decode()


def test_repeated_failures_lock_the_number_out(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": person.phone, "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"username": person.phone, "password": "test-pass-123"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_temporary_password_forces_a_change_first(client, person):
    person.password_change_required = True
    person.save()
    client.force_login(person)
    response = client.get(reverse("accounts:profile"))
    assert response.url == reverse("accounts:password_change")
    response = client.post(
        reverse("accounts:password_change"),
        {"new_password1": "a-long-own-secret", "new_password2": "a-long-own-secret"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.password_change_required and person.check_password("a-long-own-secret")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_english_is_one_click_away(client, person):
    client.force_login(person)
    client.post(reverse("set_language"), {"language": "en", "next": "/profile/"})
    assert "My account" in client.get(reverse("accounts:profile")).content.decode()
