from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from baogong.accounts.models import Role
from baogong.orders import exports, services
from baogong.orders.models import Offer, Order
from tests.factories import HouseholdFactory, UserFactory


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def round_ab(tree, supplier, packages):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="两个小区的轮次",
        areas=[tree.compound_a, tree.compound_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)


@pytest.fixture
def orders(tree, round_ab, user_with_role):
    """Three orders: two in compound a (one by a liaison), one in compound b."""
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    offers = {o.code: o for o in Offer.objects.filter(round=round_ab)}
    neighbour = HouseholdFactory(
        building=tree.building_a, unit="1", room="101", phone="13800138000"
    )

    def place(household, by, channel, **quantities):
        return services.order_place(
            round_=round_ab,
            household=household,
            lines={offers[code].pk: n for code, n in quantities.items()},
            channel=channel,
            by=by,
        )

    return {
        "liaison": liaison,
        "a": place(tree.household_a, liaison, Order.Channel.PROXY, A=2, B=1),
        "neighbour": place(neighbour, None, Order.Channel.SELF, B=1),
        "b": place(tree.household_b, None, Order.Channel.CHAIN, A=1),
    }


def url(round_):
    return reverse("orders:round_export", args=[round_.pk])


def sheet_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_supplier_export_has_every_order_with_masked_phones_and_a_totals_row(
    client, tree, supplier, round_ab, orders, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    header, *rows, totals = sheet_rows(client.get(url(round_ab)))
    assert header == [
        "Compound", "Building", "Entrance", "Room", "Phone", "Pickup code",
        "A. 米面粮油套餐", "B. 蔬菜套餐", "Amount due", "Channel", "Entered by", "Placed at",
    ]  # fmt: skip
    # Packing order: compound, building, entrance, room.
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("小区a", "3号楼", "1", "101"),
        ("小区a", "3号楼", "2", "502"),
        ("小区b", "3号楼", "2", "502"),
    ]
    first, second, _third = rows
    assert first[4] == "138****8000"
    assert all("****" in r[4] for r in rows)
    assert second[5] == orders["a"].pickup_code
    assert (second[6], second[7], Decimal(str(second[8]))) == (2, 1, Decimal("215.90"))
    assert (first[6], first[7]) == (None, 1)
    assert second[9] == "order on behalf" and second[10] == orders["liaison"].name
    assert first[9] == "self-service" and first[10] == "the household"
    assert isinstance(second[11], dt.datetime)
    assert totals[0] == "Total: 3 orders"
    assert (totals[6], totals[7], Decimal(str(totals[8]))) == (3, 2, Decimal("343.80"))


def test_liaison_export_has_their_compound_only_with_full_phones(client, tree, round_ab, orders):
    client.force_login(orders["liaison"])
    _header, *rows, totals = sheet_rows(client.get(url(round_ab)))
    assert [r[0] for r in rows] == ["小区a", "小区a"]
    assert rows[0][4] == "13800138000" and rows[1][4] == tree.household_a.phone
    assert totals[0] == "Total: 2 orders"


def test_export_leaves_out_cancelled_orders(
    client, tree, supplier, round_ab, orders, user_with_role
):
    services.order_cancel(order=orders["b"], by=None)
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    _header, *rows, _totals = sheet_rows(client.get(url(round_ab)))
    assert [r[0] for r in rows] == ["小区a", "小区a"]


def test_export_permissions(client, tree, round_ab, orders, user_with_role):
    client.force_login(user_with_role(Role.BUREAU_STAFF, tree.district))  # counts only
    assert client.get(url(round_ab)).status_code == 403
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.get(url(round_ab)).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url(round_ab)).status_code == 404
    client.logout()
    assert client.get(url(round_ab)).url.startswith(reverse("accounts:login"))


def test_export_of_another_suppliers_round_is_not_found(client, round_ab, user_with_role):
    from baogong.supply.models import Supplier

    other = Supplier.objects.create(name="别家", kind=Supplier.Kind.SMALL_SHOP)
    client.force_login(user_with_role(Role.SUPPLIER, other))
    assert client.get(url(round_ab)).status_code == 404


def test_text_that_looks_like_a_formula_is_written_as_text(tree, round_ab, orders):
    user = orders["liaison"]
    user.name = '=HYPERLINK("http://evil")'
    user.save()
    order = Order.objects.select_related(
        "household__building", "household__compound", "entered_by", "api_client"
    ).get(pk=orders["a"].pk)
    offers = list(round_ab.offers.order_by("position"))
    content = exports.round_orders_workbook(
        round_ab, offers, [order], {order.pk: {}}, full_phone=lambda household: False
    )
    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet.cell(row=2, column=11)
    assert cell.data_type == "s" and cell.value.startswith("'=")
