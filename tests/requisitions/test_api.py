from __future__ import annotations

from decimal import Decimal

from baogong.orders.api_auth import api_client_create
from baogong.requisitions.models import AllocationOrder


def auth(token, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def test_supplier_lists_reads_and_confirms_its_orders(client, chain):
    order = chain.allocation()
    _client, token = api_client_create(supplier=chain.supplier, name="企业系统")
    listed = client.get("/api/allocations", headers=auth(token)).json()
    assert [o["number"] for o in listed] == [order.number]
    detail = client.get(f"/api/allocations/{order.pk}", headers=auth(token)).json()
    rice, oil = detail["lines"]
    body = {
        "lines": [
            {"line_id": rice["id"], "quantity": "15", "reason": "库存不足"},
            {"line_id": oil["id"], "quantity": "10"},
        ]
    }
    first = client.post(
        f"/api/allocations/{order.pk}/confirm",
        body,
        content_type="application/json",
        headers=auth(token, "c-1"),
    )
    again = client.post(
        f"/api/allocations/{order.pk}/confirm",
        body,
        content_type="application/json",
        headers=auth(token, "c-1"),
    )
    assert first.status_code == 200 and again.json() == first.json()
    assert first.json()["state"] == "confirmed"
    order.refresh_from_db()
    assert order.state == AllocationOrder.State.CONFIRMED
    assert order.lines.get(item="大米").confirmed_quantity == Decimal("15.00")


def test_confirm_refusals_are_json(client, chain):
    order = chain.allocation()
    _client, token = api_client_create(supplier=chain.supplier, name="企业系统")
    line = order.lines.first()
    response = client.post(
        f"/api/allocations/{order.pk}/confirm",
        {"lines": [{"line_id": line.pk, "quantity": "1"}]},
        content_type="application/json",
        headers=auth(token, "c-2"),
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    response = client.post(
        f"/api/allocations/{order.pk}/confirm",
        {"lines": [{"quantity": "1"}]},
        content_type="application/json",
        headers=auth(token, "c-3"),
    )
    assert response.status_code == 422


def test_other_suppliers_tokens_see_nothing(client, chain):
    from baogong.supply.models import Supplier

    order = chain.allocation()
    rival = Supplier.objects.create(name="别家企业", kind=Supplier.Kind.SUPERMARKET)
    _client, token = api_client_create(supplier=rival, name="别家")
    assert client.get("/api/allocations", headers=auth(token)).json() == []
    assert client.get(f"/api/allocations/{order.pk}", headers=auth(token)).status_code == 404
    assert client.get("/api/allocations").status_code == 401
