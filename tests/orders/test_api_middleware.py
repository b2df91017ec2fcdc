"""Token API requests skip the browser-only middleware; browsers and session API calls do not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.core.middleware import is_token_api
from baogong.orders import services
from baogong.orders.api_auth import api_client_create
from baogong.orders.models import Offer, Order, Round

pytestmark = pytest.mark.django_db


def test_a_token_request_gets_no_session_or_csrf_work(supplier, open_round):
    _client, token = api_client_create(supplier=supplier, name="平台")
    response = Client().get("/api/rounds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [open_round.pk]
    # The session middleware would add "Vary: Cookie" once anything read request.user.
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_the_round_list_counts_orders_on_read(supplier, open_round, tree):
    offer = Offer.objects.filter(round=open_round).first()
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offer.pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    assert Round.objects.get(pk=open_round.pk).orders_count == 0  # no capacity: not counted in
    _client, token = api_client_create(supplier=supplier, name="平台")
    response = Client().get("/api/rounds", headers={"Authorization": f"Bearer {token}"})
    assert response.json()[0]["orders_count"] == 1


def test_a_session_with_a_bearer_header_still_runs_the_browser_middleware(rf, settings):
    token_only = rf.get("/api/rounds", headers={"Authorization": "Bearer x"})
    assert is_token_api(token_only)
    with_session = rf.get("/api/rounds", headers={"Authorization": "Bearer x"})
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    assert not is_token_api(with_session)
    assert not is_token_api(rf.get("/api/rounds"))
    assert not is_token_api(rf.get("/rounds/", headers={"Authorization": "Bearer x"}))


def test_browser_pages_still_get_csrf_and_sessions(client, user_with_role, tree):
    response = client.get(reverse("accounts:login"))
    assert "csrftoken" in response.cookies
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(reverse("orders:round_list"))
    assert response.status_code == 200 and "Cookie" in response.get("Vary", "")
