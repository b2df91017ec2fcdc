"""The fast path of POST /api/rounds/{id}/orders (core.middleware.TokenApiFastPath).

A well-formed placement is answered without URL resolution or django-ninja; anything
else falls through to the ninja view, which answers as it always did. Both must give
the same responses, and the rules (stock, idempotency) hold either way.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from baogong.orders.api_auth import api_client_create
from baogong.orders.models import IdempotencyKey, Offer, Order
from tests.factories import HouseholdFactory
from tests.orders.test_api import ApiHelper, assert_error, order_body, sold


@pytest.fixture
def api(supplier) -> ApiHelper:
    return ApiHelper(api_client_create(supplier=supplier, name="某生鲜平台")[1])


def path(round_) -> str:
    return f"/rounds/{round_.pk}/orders"


def test_the_fast_response_is_what_the_schema_renders(open_round, api):
    """The hand-built body equals the order as ninja renders it (GET), external_ref added."""
    lines = [{"offer_code": "B", "quantity": 1}, {"offer_code": "A", "quantity": 2}]
    created = api.post(path(open_round), order_body(lines=lines, external_ref="PF-1", note="门口"))
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/json; charset=utf-8"
    body = created.json()
    detail = api.get(f"/orders/{body['id']}").json()
    assert body == {**detail, "external_ref": "PF-1"}
    # Keys in the schema's order, as before the fast path.
    assert list(body) == [*detail, "external_ref"]
    assert [line["offer_code"] for line in body["lines"]] == ["A", "B"]
    stored = IdempotencyKey.objects.get(key=created.request["HTTP_IDEMPOTENCY_KEY"])
    assert (stored.status_code, stored.response) == (201, body)


def test_a_session_cookie_takes_the_full_stack_with_the_same_answer(open_round, api, tree):
    api.client.cookies["sessionid"] = "not-a-session"
    created = api.post(path(open_round), order_body())
    assert created.status_code == 201, created.content
    assert created.json()["household"]["id"] == tree.household_a.pk


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ("{not json", {}, 400, "bad_request"),
        (json.dumps({"lines": []}), {}, 422, "invalid_input"),
        (json.dumps(order_body()), {"Idempotency-Key": None}, 422, "invalid_input"),
        (json.dumps(order_body()), {"Idempotency-Key": "ключ"}, 422, "invalid_idempotency_key"),
        (json.dumps(order_body()), {"Authorization": "Bearer wrong"}, 401, "unauthorized"),
    ],
)
def test_what_the_fast_path_leaves_alone_gets_the_usual_errors(
    open_round, api, body, headers, status, code
):
    sent = {**api.headers("k-1"), **headers}
    response = Client().post(
        f"/api{path(open_round)}",
        body,
        content_type="application/json",
        headers={name: value for name, value in sent.items() if value is not None},
    )
    assert_error(response, status, code)
    assert not Order.objects.exists()


def test_an_unknown_round_is_a_404_and_its_key_replays_it(open_round, api):
    missing = f"/rounds/{open_round.pk + 1000}/orders"
    first = api.post(missing, order_body(), key="nowhere")
    assert_error(first, 404, "not_found")
    again = api.post(missing, order_body(), key="nowhere")
    assert (again.status_code, again.content) == (first.status_code, first.content)


def test_two_offers_one_short_take_neither(open_round, api, tree):
    """Several offers' stock is taken in one statement on PostgreSQL: a shortage of the
    second refuses the order and gives back what the first took."""
    Offer.objects.filter(round=open_round, code="B").update(stock_cap=0)
    lines = [{"offer_code": "A", "quantity": 1}, {"offer_code": "B", "quantity": 1}]
    refused = api.post(path(open_round), order_body(lines=lines))
    assert_error(refused, 409, "sold_out")
    assert sold(open_round) == {"A": 0, "B": 0}
    assert not Order.objects.exists()


def test_two_offers_taken_together_and_given_back_by_an_edit(open_round, api, tree):
    lines = [{"offer_code": "A", "quantity": 2}, {"offer_code": "B", "quantity": 1}]
    assert api.post(path(open_round), order_body(lines=lines)).status_code == 201
    assert sold(open_round) == {"A": 2, "B": 1}
    edited = api.post(path(open_round), order_body(lines=[{"offer_code": "A", "quantity": 1}]))
    assert edited.status_code == 201, edited.content
    assert sold(open_round) == {"A": 1, "B": 0}
    assert Order.objects.count() == 1


def test_the_last_units_of_two_offers(open_round, api, tree):
    """An order that takes the last unit of an offer still places; the next is refused."""
    Offer.objects.filter(round=open_round).update(stock_cap=1)
    lines = [{"offer_code": "A", "quantity": 1}, {"offer_code": "B", "quantity": 1}]
    assert api.post(path(open_round), order_body(lines=lines)).status_code == 201
    HouseholdFactory(building=tree.building_a, unit="1", room="101")
    other = order_body(address={"building": "3", "unit": "1", "room": "101"}, lines=lines)
    assert_error(api.post(path(open_round), other), 409, "sold_out")
    assert sold(open_round) == {"A": 1, "B": 1}
