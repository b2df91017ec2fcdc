from __future__ import annotations

from decimal import Decimal

from baogong.fulfilment import queries
from baogong.fulfilment.rows import UNPAID
from baogong.orders import services
from baogong.orders.models import Order


def test_offer_totals_count_placed_orders_only(filled_round):
    services.order_cancel(order=filled_round.orders[4], by=None)
    totals = {t.code: t for t in queries.offer_totals(filled_round.round)}
    assert (totals["A"].ordered, totals["B"].ordered) == (6, 4)
    assert totals["A"].amount == Decimal("528.00")
    assert totals["B"].amount == Decimal("159.60")


def test_compound_and_building_totals(filled_round, tree):
    compounds = {g.name: g for g in queries.compound_totals(filled_round.round)}
    a, b = compounds["小区a"], compounds["小区b"]
    offers = filled_round.offers
    assert (a.orders, b.orders) == (4, 1)
    assert a.units == {offers["A"].pk: 6, offers["B"].pk: 4}
    assert b.amount == Decimal("127.90")
    buildings = [
        (g.compound, g.name, g.orders) for g in queries.building_totals(filled_round.round)
    ]
    # Natural order: 3号楼 before 10号楼.
    assert buildings == [("小区a", "3号楼", 3), ("小区a", "10号楼", 1), ("小区b", "3号楼", 1)]


def test_bags_come_in_packing_order_with_masked_phones(filled_round):
    Order.objects.filter(pk=filled_round.orders[2].pk).update(state=Order.State.DROPPED)
    bags = list(queries.bags(filled_round.round))
    assert [(b.compound, b.place) for b in bags] == [
        ("小区a", "3号楼1单元201"),
        ("小区a", "3号楼2单元502"),
        ("小区a", "10号楼1单元101"),
        ("小区b", "3号楼2单元502"),
    ]
    assert all("****" in b.phone and len(b.phone) == 11 for b in bags)
    first = bags[0]
    assert [(i.code, i.quantity) for i in first.items] == [("A", 3), ("B", 1)]
    assert first.amount == Decimal("303.90") and first.payment == UNPAID
    assert queries.bag_count(filled_round.round) == 4


def test_bags_stream_in_chunks(filled_round, monkeypatch):
    monkeypatch.setattr(queries, "CHUNK", 2)
    assert len(list(queries.bags(filled_round.round))) == 5


def test_pick_list_multiplies_package_contents(filled_round):
    picks = {p.code: p for p in queries.pick_list(filled_round.round)}
    assert picks["A"].units == 7
    assert picks["A"].contents == ["大米 5kg × 7袋"]
    assert picks["B"].contents == ["白菜 × 10颗"]
    assert picks["B"].per_compound == {"小区a": 4, "小区b": 1}


def test_orders_version_changes_with_orders(filled_round):
    before = queries.orders_version(filled_round.round)
    services.order_cancel(order=filled_round.orders[0], by=None)
    assert queries.orders_version(filled_round.round) != before
