"""Idempotency-Key: a retried API write returns the first response and never writes twice."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from baogong.orders import services
from baogong.orders.api_auth import api_client_create
from baogong.orders.models import IdempotencyKey, Offer, Order
from tests.orders.test_api import ApiHelper, assert_error, order_body, sold


@pytest.fixture
def token(supplier) -> str:
    return api_client_create(supplier=supplier, name="某生鲜平台")[1]


@pytest.fixture
def api(token) -> ApiHelper:
    return ApiHelper(token)


def orders_path(round_) -> str:
    return f"/rounds/{round_.pk}/orders"


def test_a_retry_returns_the_identical_response_and_places_one_order(open_round, api):
    first = api.post(orders_path(open_round), order_body(), key="retry-1")
    again = api.post(orders_path(open_round), order_body(), key="retry-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert Order.objects.count() == 1
    assert sold(open_round) == {"A": 2, "B": 0}


def test_a_retry_after_the_order_changed_still_returns_the_first_response(open_round, api):
    first = api.post(orders_path(open_round), order_body(), key="retry-2")
    order_id = first.json()["id"]
    change = {"lines": [{"offer_code": "B", "quantity": 1}]}
    assert api.put(f"/orders/{order_id}", change).status_code == 200
    again = api.post(orders_path(open_round), order_body(), key="retry-2")
    assert again.content == first.content  # the stored response, not a new placement
    assert sold(open_round) == {"A": 0, "B": 1}


def test_the_same_key_with_another_body_is_refused_with_422(open_round, api):
    api.post(orders_path(open_round), order_body(), key="reused")
    other = order_body(lines=[{"offer_code": "B", "quantity": 1}])
    assert_error(
        api.post(orders_path(open_round), other, key="reused"), 422, "idempotency_key_reused"
    )
    assert sold(open_round) == {"A": 2, "B": 0}
    assert IdempotencyKey.objects.count() == 1


def test_the_same_key_on_another_path_is_refused_with_422(open_round, api):
    placed = api.post(orders_path(open_round), order_body(), key="k").json()
    assert_error(api.delete(f"/orders/{placed['id']}", key="k"), 422, "idempotency_key_reused")
    assert Order.objects.get().state == Order.State.PLACED


def test_keys_belong_to_one_client(open_round, tree, supplier, api):
    other = ApiHelper(api_client_create(supplier=supplier, name="另一个平台")[1])
    api.post(orders_path(open_round), order_body(), key="shared")
    body = order_body(
        address=None, address_text="3-2-502", lines=[{"offer_code": "B", "quantity": 1}]
    )
    response = other.post(orders_path(open_round), body, key="shared")
    assert response.status_code == 201  # executed, not the first client's stored answer
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_a_refusal_is_replayed_too(open_round, api):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=1)
    first = api.post(orders_path(open_round), order_body(), key="refused")
    assert_error(first, 409, "sold_out")
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=50)
    again = api.post(orders_path(open_round), order_body(), key="refused")
    assert (again.status_code, again.content) == (409, first.content)
    assert not Order.objects.exists()
    # A new key is a new attempt.
    assert api.post(orders_path(open_round), order_body(), key="refused-2").status_code == 201


def test_put_and_delete_replay_with_a_key(open_round, api):
    placed = api.post(orders_path(open_round), order_body()).json()
    change = {"lines": [{"offer_code": "B", "quantity": 1}]}
    first = api.put(f"/orders/{placed['id']}", change, key="put-1")
    assert first.status_code == 200
    api.put(f"/orders/{placed['id']}", {"lines": [{"offer_code": "A", "quantity": 1}]})
    assert api.put(f"/orders/{placed['id']}", change, key="put-1").content == first.content
    assert sold(open_round) == {"A": 1, "B": 0}  # the replay changed nothing
    cancelled = api.delete(f"/orders/{placed['id']}", key="del-1")
    assert api.delete(f"/orders/{placed['id']}", key="del-1").content == cancelled.content


def test_put_and_delete_work_without_a_key(open_round, api):
    placed = api.post(orders_path(open_round), order_body()).json()
    helper = ApiHelper(api.token)
    response = helper.client.delete(
        f"/api/orders/{placed['id']}", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 200
    assert IdempotencyKey.objects.count() == 1  # only the POST's


@pytest.mark.parametrize("key", ["x" * 101, "中文键", "tab\there"])
def test_a_malformed_key_is_refused(open_round, api, key):
    response = api.client.post(
        f"/api{orders_path(open_round)}",
        '{"address_text": "3-2-502", "lines": [{"offer_code": "A", "quantity": 1}]}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": key},
    )
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid_idempotency_key", "invalid_input"}
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()


def test_an_unexpected_error_keeps_no_key_so_the_retry_runs(open_round, api, monkeypatch):
    real = services.order_place
    calls = []

    def crash_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            real(**kwargs)  # writes, then the request dies: everything must roll back
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(services, "order_place", crash_once)
    api.client = Client(raise_request_exception=False)
    assert api.post(orders_path(open_round), order_body(), key="crash").status_code == 500
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()
    assert sold(open_round) == {"A": 0, "B": 0}
    assert api.post(orders_path(open_round), order_body(), key="crash").status_code == 201
    assert Order.objects.count() == 1 and sold(open_round) == {"A": 2, "B": 0}


# --- at the same moment (PostgreSQL) ---------------------------------------------------

THREADS = 12


def _fire(bearer: str, path: str, bodies: list[dict], key: str) -> list[tuple[int, bytes]]:
    """POST each body from its own thread and connection, all released at once."""
    start = threading.Barrier(len(bodies))

    def send(body: dict) -> tuple[int, bytes]:
        try:
            helper = ApiHelper(bearer)
            start.wait()
            response = helper.post(path, body, key=key)
            return response.status_code, response.content
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_requests_at_the_same_moment_place_one_order(open_round, token):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are tested on PostgreSQL")
    outcomes = _fire(token, orders_path(open_round), [order_body()] * THREADS, key="same-moment")
    assert {status for status, _content in outcomes} == {201}
    assert len({content for _status, content in outcomes}) == 1  # byte-identical
    assert Order.objects.count() == 1
    assert Order.history.count() == 1  # order_place ran once, not once per request
    assert sold(open_round) == {"A": 2, "B": 0}
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_with_different_bodies_at_the_same_moment_runs_one(open_round, token):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are tested on PostgreSQL")
    bodies = [order_body(lines=[{"offer_code": "B", "quantity": 1}], note=str(i)) for i in range(8)]
    outcomes = _fire(token, orders_path(open_round), bodies, key="contested")
    statuses = sorted(status for status, _content in outcomes)
    assert statuses == [201] + [422] * 7
    winner = next(content for status, content in outcomes if status == 201)
    assert Order.objects.count() == 1 and Order.history.count() == 1
    assert Order.objects.get().note == json.loads(winner)["note"]
    assert sold(open_round) == {"A": 0, "B": 1}
