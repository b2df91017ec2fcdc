"""The platform API: token auth, scoping to the client's supplier, each endpoint, each refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.orders import services
from baogong.orders.api_auth import api_client_create, api_client_revoke
from baogong.orders.models import ApiClient, Offer, Order, Round
from baogong.supply.models import Package, Supplier
from tests.factories import HouseholdFactory

ADDRESS = {"building": "3", "unit": "2", "room": "502"}  # household_a (and household_b)


@pytest.fixture
def token(supplier) -> str:
    return api_client_create(supplier=supplier, name="某生鲜平台")[1]


@pytest.fixture
def api(token) -> ApiHelper:
    return ApiHelper(token)


@pytest.fixture
def other_supplier_round(tree):
    other = Supplier.objects.create(name="别家超市", kind=Supplier.Kind.PLATFORM)
    package = Package.objects.create(supplier=other, name="别家套餐", price=Decimal("10.00"))
    now = timezone.now()
    round_ = services.round_create(
        supplier=other,
        title="别家第1期",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(package, "A")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)


class ApiHelper:
    """A test client that sends the bearer token and a fresh Idempotency-Key per write."""

    def __init__(self, token: str | None, **client_kwargs) -> None:
        self.client = Client(**client_kwargs)
        self.token = token
        self.keys = 0

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def _key(self, key: str | None) -> str:
        self.keys += 1
        return key or f"test-key-{self.keys}"

    def get(self, path: str, **params):
        return self.client.get(f"/api{path}", params, headers=self.headers())

    def post(self, path: str, body: dict, key: str | None = None):
        return self.client.post(
            f"/api{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers(self._key(key)),
        )

    def put(self, path: str, body: dict, key: str | None = None):
        return self.client.put(
            f"/api{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers(self._key(key)),
        )

    def delete(self, path: str, key: str | None = None):
        return self.client.delete(f"/api{path}", headers=self.headers(self._key(key)))


def order_body(**changes) -> dict:
    body = {"address": ADDRESS, "lines": [{"offer_code": "A", "quantity": 2}]}
    body.update(changes)
    return body


def sold(round_) -> dict[str, int]:
    return dict(Offer.objects.filter(round=round_).values_list("code", "sold"))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- authentication and scoping --------------------------------------------------------


def test_ping_answers_without_a_token(db):
    response = Client().get("/api/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-real-token",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 300,
    ],
)
def test_requests_without_a_valid_token_get_401(open_round, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = Client().get("/api/rounds", headers=headers)
    body = assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in body["detail"]


def test_a_revoked_token_gets_401_and_writes_nothing(open_round, supplier, token, api):
    client = ApiClient.objects.get(supplier=supplier)
    api_client_revoke(client)
    assert_error(api.post(f"/rounds/{open_round.pk}/orders", order_body()), 401, "unauthorized")
    assert not Order.objects.exists()


def test_a_token_of_an_inactive_supplier_gets_401(open_round, supplier, api):
    Supplier.objects.filter(pk=supplier.pk).update(is_active=False)
    assert_error(api.get("/rounds"), 401, "unauthorized")


def test_a_logged_in_browser_session_is_not_an_api_token(open_round, user_with_role, supplier):
    client = Client()
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert_error(client.get("/api/rounds"), 401, "unauthorized")


def test_csrf_does_not_block_token_clients(open_round, api, token):
    api.client = Client(enforce_csrf_checks=True)
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body())
    assert response.status_code == 201, response.content


def test_only_the_hash_of_a_token_is_stored(supplier):
    client, token = api_client_create(supplier=supplier, name="平台")
    stored = ApiClient.objects.get(pk=client.pk)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, stored.name} and stored.token_prefix == token[:8]
    assert len(token) >= 43  # 32 random bytes


def test_create_api_client_command_prints_a_working_token(open_round, supplier):
    out = io.StringIO()
    call_command("create_api_client", str(supplier.pk), "某平台", "--quiet", stdout=out)
    token = out.getvalue().strip()
    assert (
        ApiClient.objects.get(name="某平台").token_hash
        == hashlib.sha256(token.encode()).hexdigest()
    )
    assert ApiHelper(token).get("/rounds").status_code == 200


def test_create_api_client_command_refuses_an_unknown_supplier(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_client", "999999", "某平台", stdout=io.StringIO())
    assert not ApiClient.objects.exists()


def test_another_suppliers_round_is_not_found(other_supplier_round, open_round, api):
    round_id = other_supplier_round.pk
    assert_error(api.get(f"/rounds/{round_id}"), 404, "not_found")
    assert_error(api.get(f"/rounds/{round_id}/orders"), 404, "not_found")
    assert_error(api.post(f"/rounds/{round_id}/orders", order_body()), 404, "not_found")
    assert not Order.objects.exists()
    assert [r["id"] for r in api.get("/rounds").json()] == [open_round.pk]


def test_another_suppliers_order_cannot_be_read_changed_or_cancelled(
    other_supplier_round, open_round, tree, api
):
    offer = Offer.objects.get(round=other_supplier_round)
    order = services.order_place(
        round_=other_supplier_round,
        household=tree.household_a,
        lines={offer.pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    assert_error(api.get(f"/orders/{order.pk}"), 404, "not_found")
    body = {"lines": [{"offer_code": "A", "quantity": 1}]}
    assert_error(api.put(f"/orders/{order.pk}", body), 404, "not_found")
    assert_error(api.delete(f"/orders/{order.pk}"), 404, "not_found")
    order.refresh_from_db()
    assert order.state == Order.State.PLACED and order.channel == Order.Channel.PROXY


def test_draft_rounds_are_not_shown(tree, supplier, packages, api):
    now = timezone.now()
    draft = services.round_create(
        supplier=supplier,
        title="草稿",
        areas=[tree.compound_a],
        opens_at=now,
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )
    assert api.get("/rounds").json() == []
    assert_error(api.get(f"/rounds/{draft.pk}"), 404, "not_found")


# --- rounds ----------------------------------------------------------------------------


def test_round_list_shows_offers_with_contents_and_the_compounds(open_round, tree, api):
    response = api.get("/rounds")
    assert response.status_code == 200
    [round_] = response.json()
    assert round_["id"] == open_round.pk and round_["state"] == "open"
    assert round_["compounds"] == [
        {"id": tree.compound_a.pk, "name": "小区a", "community": "社区a"}
    ]
    rice = round_["offers"][0]
    assert rice == {
        "code": "A",
        "name": "米面粮油套餐",
        "category": "grain_oil",
        "price": "88.00",
        "stock_cap": 50,
        "remaining": 50,
        "per_household_limit": 2,
        "lines": [{"item": "大米", "specification": "5kg", "quantity": "1", "unit": "袋"}],
    }
    assert round_["cutoff_at"].endswith("+08:00")


def test_round_list_expands_a_community_into_its_compounds(tree, supplier, packages, api):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="社区团",
        areas=[tree.community_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    [listed] = api.get("/rounds").json()
    assert [c["id"] for c in listed["compounds"]] == [tree.compound_b.pk]


def test_round_list_keeps_recent_closed_rounds_and_drops_old_ones(open_round, api):
    services.round_transition(round_=open_round, action="close", by=None)
    assert [r["state"] for r in api.get("/rounds").json()] == ["closed"]
    Round.objects.filter(pk=open_round.pk).update(
        opens_at=timezone.now() - dt.timedelta(days=60),
        cutoff_at=timezone.now() - dt.timedelta(days=40),
    )
    assert api.get("/rounds").json() == []
    assert len(api.get("/rounds", state="closed").json()) == 1


def test_round_detail(open_round, api):
    response = api.get(f"/rounds/{open_round.pk}")
    assert response.status_code == 200
    assert [o["code"] for o in response.json()["offers"]] == ["A", "B"]


# --- placing orders --------------------------------------------------------------------


def test_post_places_an_api_order_for_the_household_at_the_address(open_round, tree, api):
    response = api.post(
        f"/rounds/{open_round.pk}/orders",
        order_body(
            lines=[{"offer_code": "a", "quantity": 2}, {"offer_code": "B", "quantity": 1}],
            external_ref="PF-20220401-0001",
            note="放门口",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.pk and body["round_id"] == open_round.pk
    assert body["pickup_code"] == order.pickup_code
    assert body["amount_due"] == "215.90"
    assert body["external_ref"] == "PF-20220401-0001"
    assert body["note"] == "放门口"
    assert body["household"]["id"] == tree.household_a.pk
    assert body["household"]["phone"] == tree.household_a.masked_phone
    assert [(line["offer_code"], line["quantity"], line["amount"]) for line in body["lines"]] == [
        ("A", 2, "176.00"),
        ("B", 1, "39.90"),
    ]
    assert order.household == tree.household_a
    assert order.channel == Order.Channel.API and order.entered_by is None
    assert order.api_client == ApiClient.objects.get()
    assert sold(open_round) == {"A": 2, "B": 1}


@pytest.mark.parametrize("text", ["3号楼2单元502", "3-2-502", "3栋2单元502室", "三号楼二单元502"])
def test_post_finds_the_household_by_address_text(open_round, tree, api, text):
    response = api.post(
        f"/rounds/{open_round.pk}/orders", order_body(address=None, address_text=text)
    )
    assert response.status_code == 201, response.content
    assert response.json()["household"]["id"] == tree.household_a.pk


def test_an_address_without_entrance_matches_the_only_such_room(open_round, tree, api):
    response = api.post(
        f"/rounds/{open_round.pk}/orders", order_body(address=None, address_text="3号楼502")
    )
    assert response.status_code == 201, response.content
    assert response.json()["household"]["id"] == tree.household_a.pk


def test_an_address_in_several_compounds_needs_compound_id(tree, supplier, packages, api):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="两个小区",
        areas=[tree.compound_a, tree.compound_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    body = assert_error(
        api.post(f"/rounds/{round_.pk}/orders", order_body()), 422, "ambiguous_address"
    )
    assert "小区a" in body["detail"] and "小区b" in body["detail"]
    assert not Order.objects.exists()
    response = api.post(f"/rounds/{round_.pk}/orders", order_body(compound_id=tree.compound_b.pk))
    assert response.status_code == 201
    assert response.json()["household"]["id"] == tree.household_b.pk


def test_a_compound_outside_the_round_is_refused(open_round, tree, api):
    response = api.post(
        f"/rounds/{open_round.pk}/orders", order_body(compound_id=tree.compound_b.pk)
    )
    assert_error(response, 409, "not_in_round_area")
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"address": {"building": "9", "unit": "1", "room": "101"}}, "household_not_found"),
        ({"address": None, "address_text": "我家门口"}, "bad_address"),
        ({"address": None}, "invalid_input"),
        ({"address_text": "3-2-502"}, "invalid_input"),  # both forms at once
        ({"lines": []}, "invalid_input"),
        ({"lines": [{"offer_code": "A", "quantity": 0}]}, "invalid_input"),
        (
            {"lines": [{"offer_code": "A", "quantity": 1}, {"offer_code": "a", "quantity": 1}]},
            "invalid_input",
        ),
        ({"lines": [{"offer_code": "Z", "quantity": 1}]}, "unknown_offer"),
        ({"note": "长" * 201}, "invalid_input"),
    ],
)
def test_bad_requests_get_422_and_write_nothing(open_round, api, changes, code):
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body(**changes))
    assert_error(response, 422, code)
    assert not Order.objects.exists()
    assert sold(open_round) == {"A": 0, "B": 0}


def test_validation_errors_say_which_field(open_round, api):
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body(lines="many"))
    body = assert_error(response, 422, "invalid_input")
    assert any("lines" in error["loc"] for error in body["errors"])


def test_a_body_that_is_not_json_gets_400(open_round, api):
    response = api.client.post(
        f"/api/rounds/{open_round.pk}/orders",
        "{not json",
        content_type="application/json",
        headers=api.headers("k1"),
    )
    assert_error(response, 400, "bad_request")
    assert not Order.objects.exists()


def test_post_without_idempotency_key_is_refused(open_round, api):
    response = api.client.post(
        f"/api/rounds/{open_round.pk}/orders",
        json.dumps(order_body()),
        content_type="application/json",
        headers=api.headers(),
    )
    body = assert_error(response, 422, "invalid_input")
    assert "Idempotency-Key" in json.dumps(body["errors"])
    assert not Order.objects.exists()


# --- refusals: 409 with the reason -----------------------------------------------------


def test_sold_out_is_409_and_nothing_written(open_round, api):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=1)
    body = assert_error(api.post(f"/rounds/{open_round.pk}/orders", order_body()), 409, "sold_out")
    assert "米面粮油套餐" in body["detail"]
    assert not Order.objects.exists() and sold(open_round) == {"A": 0, "B": 0}


def test_over_the_household_limit_is_409(open_round, api):
    body = order_body(lines=[{"offer_code": "A", "quantity": 3}])
    assert_error(api.post(f"/rounds/{open_round.pk}/orders", body), 409, "over_limit")
    assert not Order.objects.exists()


def test_a_closed_round_is_409_round_not_open(open_round, api):
    services.round_transition(round_=open_round, action="close", by=None)
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body())
    assert_error(response, 409, "round_not_open")
    assert not Order.objects.exists()


def test_a_full_round_is_409_round_full(open_round, tree, api):
    Round.objects.filter(pk=open_round.pk).update(capacity=1)
    other = HouseholdFactory(building=tree.building_a, unit="1", room="101")
    offers = dict(Offer.objects.filter(round=open_round).values_list("code", "pk"))
    services.order_place(
        round_=open_round,
        household=other,
        lines={offers["B"]: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    Round.objects.filter(pk=open_round.pk).update(state=Round.State.OPEN)  # in case it closed
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body())
    assert response.status_code == 409
    assert response.json()["code"] in {"round_full", "round_not_open"}
    assert Order.objects.count() == 1


def test_the_cadence_rule_is_409(open_round, tree, supplier, packages, api):
    now = timezone.now()
    earlier = services.round_create(
        supplier=supplier,
        title="上一期",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=2),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[1], "B")],
        by=None,
    )
    services.round_transition(round_=earlier, action="open", by=None)
    assert (
        api.post(
            f"/rounds/{earlier.pk}/orders", order_body(lines=[{"offer_code": "B", "quantity": 1}])
        ).status_code
        == 201
    )
    body = assert_error(api.post(f"/rounds/{open_round.pk}/orders", order_body()), 409, "cadence")
    assert "3" in body["detail"]
    assert Order.objects.filter(round=open_round).count() == 0


# --- reading, changing, cancelling -----------------------------------------------------


@pytest.fixture
def placed(open_round, api) -> dict:
    response = api.post(f"/rounds/{open_round.pk}/orders", order_body())
    assert response.status_code == 201
    return response.json()


def test_get_order(placed, api):
    response = api.get(f"/orders/{placed['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["pickup_code"] == placed["pickup_code"] and body["state"] == "placed"
    assert "external_ref" not in body


def test_an_unknown_order_is_404(db, api):
    assert_error(api.get("/orders/999999"), 404, "not_found")


def test_put_replaces_the_lines_and_moves_the_stock(open_round, placed, api):
    response = api.put(f"/orders/{placed['id']}", {"lines": [{"offer_code": "B", "quantity": 1}]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(line["offer_code"], line["quantity"]) for line in body["lines"]] == [("B", 1)]
    assert body["amount_due"] == "39.90" and body["pickup_code"] == placed["pickup_code"]
    assert sold(open_round) == {"A": 0, "B": 1}
    assert Order.objects.count() == 1


def test_put_keeps_the_note_unless_given(open_round, api):
    order_id = api.post(f"/rounds/{open_round.pk}/orders", order_body(note="放门口")).json()["id"]
    lines = [{"offer_code": "A", "quantity": 1}]
    assert api.put(f"/orders/{order_id}", {"lines": lines}).json()["note"] == "放门口"
    assert api.put(f"/orders/{order_id}", {"lines": lines, "note": ""}).json()["note"] == ""


def test_put_over_the_limit_is_409_and_changes_nothing(open_round, placed, api):
    response = api.put(f"/orders/{placed['id']}", {"lines": [{"offer_code": "A", "quantity": 5}]})
    assert_error(response, 409, "over_limit")
    assert sold(open_round) == {"A": 2, "B": 0}
    assert Order.objects.get().amount_due == Decimal("176.00")


def test_delete_cancels_and_gives_the_stock_back(open_round, placed, api):
    response = api.delete(f"/orders/{placed['id']}")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert sold(open_round) == {"A": 0, "B": 0}
    again = api.delete(f"/orders/{placed['id']}")
    assert again.status_code == 200 and again.json()["state"] == "cancelled"
    assert sold(open_round) == {"A": 0, "B": 0}


def test_delete_after_the_cut_off_is_409(open_round, placed, api):
    services.round_transition(round_=open_round, action="close", by=None)
    assert_error(api.delete(f"/orders/{placed['id']}"), 409, "round_not_open")
    assert Order.objects.get().state == Order.State.PLACED
    assert sold(open_round) == {"A": 2, "B": 0}


# --- export ----------------------------------------------------------------------------


def test_round_export_is_paginated_with_masked_phones(open_round, tree, api):
    households = [tree.household_a] + [
        HouseholdFactory(building=tree.building_a, unit="1", room=f"{100 + i}") for i in range(4)
    ]
    offers = dict(Offer.objects.filter(round=open_round).values_list("code", "pk"))
    for household in households:
        services.order_place(
            round_=open_round,
            household=household,
            lines={offers["B"]: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )
    first = api.get(f"/rounds/{open_round.pk}/orders", page_size=2)
    assert first.status_code == 200
    body = first.json()
    assert (body["count"], body["page"], body["pages"]) == (5, 1, 3)
    assert len(body["items"]) == 2
    last = api.get(f"/rounds/{open_round.pk}/orders", page_size=2, page=3).json()
    assert len(last["items"]) == 1
    ids = [
        item["id"]
        for page in (1, 2, 3)
        for item in api.get(f"/rounds/{open_round.pk}/orders", page_size=2, page=page).json()[
            "items"
        ]
    ]
    assert sorted(ids) == ids and len(set(ids)) == 5
    everything = api.get(f"/rounds/{open_round.pk}/orders", page_size=1000)
    content = everything.content.decode()
    for household in households:
        assert household.phone not in content
        assert household.masked_phone in content
    assert "****" in everything.json()["items"][0]["household"]["phone"]


def test_round_export_page_size_is_capped(open_round, api):
    body = api.get(f"/rounds/{open_round.pk}/orders", page_size=100000, page=-3).json()
    assert (body["count"], body["page"], body["pages"], body["items"]) == (0, 1, 1, [])


def test_export_query_count_does_not_grow_with_orders(
    open_round, tree, api, django_assert_max_num_queries
):
    offers = dict(Offer.objects.filter(round=open_round).values_list("code", "pk"))
    for i in range(10):
        household = HouseholdFactory(building=tree.building_a, unit="1", room=f"{100 + i}")
        services.order_place(
            round_=open_round,
            household=household,
            lines={offers["B"]: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )
    with django_assert_max_num_queries(6):
        assert len(api.get(f"/rounds/{open_round.pk}/orders").json()["items"]) == 10


# --- OpenAPI ---------------------------------------------------------------------------


def test_openapi_lists_the_endpoints(db):
    schema = Client().get("/api/openapi.json").json()
    assert {
        "/api/ping",
        "/api/rounds",
        "/api/rounds/{round_id}",
        "/api/rounds/{round_id}/orders",
        "/api/orders/{order_id}",
    } <= set(schema["paths"])
    create = schema["paths"]["/api/rounds/{round_id}/orders"]["post"]
    assert {"201", "401", "404", "409", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    assert schema["components"]["securitySchemes"]


def test_api_docs_page_renders(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
