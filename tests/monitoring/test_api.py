"""Stock reports by API: token scoping, per-item outcomes, idempotent retries."""

from __future__ import annotations

import datetime as dt

import pytest

from baogong.monitoring.models import OutletReport
from baogong.orders.api_auth import api_client_create
from baogong.supply.models import Outlet, Supplier
from tests.monitoring.conftest import TODAY

URL = "/api/monitoring/outlets/{}/reports"


@pytest.fixture
def token(supplier) -> str:
    return api_client_create(supplier=supplier, name="门店系统")[1]


def item(commodity="rice", date=TODAY, **figures):
    values = {"opening": "100", "received": "20", "sold": "30", "closing": "90", "price": "6.00"}
    values.update(figures)
    return {"commodity": commodity, "date": date.isoformat(), **values}


def post(client, token, outlet_id, reports, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        URL.format(outlet_id),
        {"reports": reports},
        content_type="application/json",
        headers=headers,
    )


def test_batch_files_each_item_on_its_own(client, token, outlet, rice):
    response = post(
        client,
        token,
        outlet.pk,
        [
            item(),
            item(commodity="eggs", closing="-1"),
            item(commodity="caviar"),
            item(commodity="milk", closing="10"),
        ],
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "flagged"]
    assert "negative" in results[1]["reasons"][0]
    assert OutletReport.objects.filter(channel="api").count() == 2


def test_same_figures_again_are_unchanged_and_a_change_is_a_revision(client, token, outlet, rice):
    post(client, token, outlet.pk, [item()])
    again = post(client, token, outlet.pk, [item()]).json()["results"][0]
    assert again["status"] == "unchanged" and again["revision"] == 1
    changed = post(client, token, outlet.pk, [item(sold="35", closing="85")]).json()
    assert changed["results"][0]["revision"] == 2
    assert OutletReport.objects.filter(is_latest=True).count() == 1


def test_idempotency_key_replays_the_first_response(client, token, outlet, rice):
    first = post(client, token, outlet.pk, [item()], key="k-1").json()
    second = post(client, token, outlet.pk, [item()], key="k-1").json()
    assert first == second and first["results"][0]["status"] == "created"


def test_other_suppliers_outlet_is_not_found(client, token, tree):
    other = Supplier.objects.create(name="别家", kind=Supplier.Kind.SMALL_SHOP)
    foreign = Outlet.objects.create(supplier=other, name="别家店", area=tree.community_b)
    assert post(client, token, foreign.pk, [item()]).status_code == 404
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL.format(foreign.pk), headers=headers).status_code == 404
    assert OutletReport.objects.count() == 0


def test_no_token_is_401(client, outlet):
    assert (
        client.post(URL.format(outlet.pk), {}, content_type="application/json").status_code == 401
    )


def test_read_back_the_days_reports_and_the_catalogue(client, token, outlet, rice):
    post(client, token, outlet.pk, [item(), item(date=TODAY - dt.timedelta(days=1))])
    headers = {"Authorization": f"Bearer {token}"}
    rows = client.get(URL.format(outlet.pk), {"date": TODAY.isoformat()}, headers=headers).json()
    assert [(r["commodity"], r["closing"]) for r in rows] == [("rice", "90.00")]
    codes = [c["code"] for c in client.get("/api/monitoring/commodities", headers=headers).json()]
    assert "rice" in codes and "instant-noodles" in codes
