"""How many SQL statements one API order costs: pinned, so the hot path cannot silently grow.

bench/order_load.py measures the rate; these counts are what it rests on (see
bench/README.md, "Order API load"). Counted in a test transaction, so the request's
own transaction shows as a savepoint pair (BEGIN and COMMIT in production).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from baogong.orders.api_auth import api_client_create
from baogong.orders.models import IdempotencyKey, Offer, Order
from tests.factories import HouseholdFactory
from tests.orders.test_api import ApiHelper, order_body

# Savepoint; the token's client, its claim of the idempotency key (INSERT … ON
# CONFLICT) and the round with its offers (one statement on PostgreSQL, two on
# SQLite); household; household lock + order + history + lines + the key's response
# (one statement on PostgreSQL, five on SQLite); stock + round check + cadence (one
# statement on PostgreSQL, three on SQLite); release. Before the fast path and these
# folds: 12 on PostgreSQL, then 9.
NEW_ORDER_STATEMENTS = {"postgresql": 6, "sqlite": 13}
# A second line: one more stock UPDATE on SQLite, the same statement on PostgreSQL.
SECOND_LINE = {"postgresql": 0, "sqlite": 1}


@pytest.fixture
def platform(supplier) -> ApiHelper:
    return ApiHelper(api_client_create(supplier=supplier, name="某生鲜平台")[1])


def place(api: ApiHelper, round_, **changes):
    return api.post(f"/rounds/{round_.pk}/orders", order_body(**changes))


def test_a_new_order_costs_a_fixed_number_of_statements(
    open_round, platform, django_assert_num_queries
):
    with django_assert_num_queries(NEW_ORDER_STATEMENTS[connection.vendor]):
        response = place(platform, open_round)
    assert response.status_code == 201, response.content


def test_two_lines_take_their_stock_in_one_statement_on_postgresql(
    open_round, platform, django_assert_num_queries
):
    lines = [{"offer_code": "A", "quantity": 1}, {"offer_code": "B", "quantity": 1}]
    expected = NEW_ORDER_STATEMENTS[connection.vendor] + SECOND_LINE[connection.vendor]
    with django_assert_num_queries(expected):
        response = place(platform, open_round, lines=lines)
    assert response.status_code == 201, response.content


def test_a_replayed_request_is_cheaper_still(open_round, platform, django_assert_max_num_queries):
    place(platform, open_round)
    with django_assert_max_num_queries(6):
        again = platform.post(f"/rounds/{open_round.pk}/orders", order_body(), key="test-key-1")
    assert again.status_code == 201


def test_no_orderings_and_one_savepoint(open_round, platform):
    with CaptureQueriesContext(connection) as queries:
        place(platform, open_round)
    statements = [q["sql"] for q in queries.captured_queries]
    # The only ORDER BY allowed takes several offers' row locks in id order (no deadlocks).
    assert not any("ORDER BY" in sql and "FOR NO KEY UPDATE" not in sql for sql in statements)
    # The request's transaction only: order_place runs without a savepoint of its own.
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1


def test_the_response_is_stored_before_the_hot_rows_and_a_refusal_replaces_it(
    open_round, platform, tree
):
    """The key's response is written before stock is taken; when stock then runs out,
    the whole transaction rolls back and the refusal is what the key replays."""
    with CaptureQueriesContext(connection) as queries:
        assert place(platform, open_round).status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    stored = next(i for i, sql in enumerate(statements) if "UPDATE orders_idempotencykey" in sql)
    stock = next(i for i, sql in enumerate(statements) if "SET sold" in sql)
    assert stored < stock

    household = HouseholdFactory(building=tree.building_a, unit="1", room="101")
    Offer.objects.filter(round=open_round, code="B").update(stock_cap=0)
    body = order_body(
        address={"building": "3", "unit": "1", "room": "101"},
        lines=[{"offer_code": "B", "quantity": 1}],
    )
    refused = platform.post(f"/rounds/{open_round.pk}/orders", body, key="sold-out")
    assert refused.status_code == 409 and refused.json()["code"] == "sold_out"
    assert not Order.objects.filter(household=household).exists()
    stored_key = IdempotencyKey.objects.get(key="sold-out")
    assert (stored_key.status_code, stored_key.response) == (409, refused.json())
    again = platform.post(f"/rounds/{open_round.pk}/orders", body, key="sold-out")
    assert (again.status_code, again.json()) == (409, refused.json())
