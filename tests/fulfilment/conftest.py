from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.areas.models import Area
from baogong.orders import services
from baogong.orders.models import Offer, Order, Round
from baogong.supply.models import Package, PackageLine, Supplier
from tests.factories import HouseholdFactory, make_area


@pytest.fixture
def supplier(db) -> Supplier:
    return Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)


@pytest.fixture
def packages(supplier) -> list[Package]:
    rice = Package.objects.create(
        supplier=supplier,
        name="米面粮油套餐",
        price=Decimal("88.00"),
        category=Package.Category.GRAIN_OIL,
        per_household_limit=3,
        default_stock_cap=500,
    )
    PackageLine.objects.create(package=rice, item="大米", specification="5kg", unit="袋")
    veg = Package.objects.create(
        supplier=supplier,
        name="蔬菜套餐",
        price=Decimal("39.90"),
        category=Package.Category.VEGETABLES,
        per_household_limit=3,
        default_stock_cap=500,
    )
    PackageLine.objects.create(package=veg, item="白菜", quantity=Decimal("2"), unit="颗")
    return [rice, veg]


@pytest.fixture
def open_round(tree, supplier, packages) -> Round:
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="第1期 保供套餐",
        areas=[tree.compound_a, tree.compound_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)


@dataclass
class Filled:
    round: Round
    offers: dict[str, Offer]
    orders: list[Order]


def place(round_: Round, household, quantities: dict[str, int], *, at=None) -> Order:
    offers = {o.code: o for o in Offer.objects.filter(round=round_)}
    return services.order_place(
        round_=round_,
        household=household,
        lines={offers[code].pk: n for code, n in quantities.items()},
        channel=Order.Channel.PROXY,
        by=None,
        now=at,
    )


@pytest.fixture
def filled_round(tree, open_round) -> Filled:
    """Orders from households in two compounds and buildings (10号楼 sorts after 3号楼)."""
    building_10 = make_area(Area.Kind.BUILDING, tree.compound_a, "10号楼")
    start = timezone.now() - dt.timedelta(minutes=30)
    plan = [
        (HouseholdFactory(building=building_10, unit="1", room="101"), {"A": 1, "B": 2}),
        (tree.household_a, {"A": 2}),  # 3号楼2单元502
        (HouseholdFactory(building=tree.building_a, unit="1", room="1101"), {"B": 1}),
        (HouseholdFactory(building=tree.building_a, unit="1", room="201"), {"A": 3, "B": 1}),
        (tree.household_b, {"A": 1, "B": 1}),
    ]
    orders = [
        place(open_round, household, quantities, at=start + dt.timedelta(minutes=i))
        for i, (household, quantities) in enumerate(plan)
    ]
    return Filled(open_round, {o.code: o for o in Offer.objects.filter(round=open_round)}, orders)


def close(round_: Round) -> Round:
    return services.round_transition(round_=round_, action="close", by=None)
