"""The allocation day's market price comes from market monitoring's outlet reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from baogong.monitoring.models import Commodity, OutletReport
from baogong.requisitions.prices import market_price
from baogong.supply.models import Outlet, Supplier

DAY = dt.date(2026, 3, 2)


def report(outlet, commodity, price, *, day=DAY, latest=True, revision=1):
    return OutletReport.objects.create(
        outlet=outlet,
        commodity=commodity,
        date=day,
        revision=revision,
        is_latest=latest,
        opening=Decimal("10"),
        received=Decimal("0"),
        sold=Decimal("5"),
        closing=Decimal("5"),
        price=Decimal(price),
        channel=OutletReport.Channel.values[0],
    )


def test_average_of_the_days_latest_reports_within_the_district(tree):
    rice, _new = Commodity.objects.get_or_create(
        name="大米",
        defaults={
            "code": "rice",
            "category": "grain_oil",
            "unit": "kg",
            "baseline_price": Decimal("6"),
        },
    )
    supplier = Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)
    first = Outlet.objects.create(supplier=supplier, name="一店", area=tree.street_a)
    second = Outlet.objects.create(supplier=supplier, name="二店", area=tree.street_b)
    elsewhere = Outlet.objects.create(supplier=supplier, name="外区店")
    report(first, rice, "50.00", latest=False)
    report(first, rice, "52.00", revision=2)
    report(second, rice, "55.00")
    report(elsewhere, rice, "90.00")
    report(first, rice, "70.00", day=DAY - dt.timedelta(days=1))
    price, source = market_price("大米", rice.unit, DAY, tree.district)
    assert price == Decimal("53.50")
    assert "2" in source and "2026-03-02" in source
    assert market_price("大米", "桶", DAY, tree.district) is None
    assert market_price("不存在的商品", rice.unit, DAY, tree.district) is None
