from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.orders import services
from baogong.supply.models import Package, PackageLine, Supplier


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
        per_household_limit=2,
        default_stock_cap=50,
    )
    PackageLine.objects.create(package=rice, item="大米", specification="5kg", unit="袋")
    veg = Package.objects.create(
        supplier=supplier,
        name="蔬菜套餐",
        price=Decimal("39.90"),
        category=Package.Category.VEGETABLES,
        default_stock_cap=100,
    )
    PackageLine.objects.create(package=veg, item="白菜", quantity=Decimal("2"), unit="颗")
    return [rice, veg]


@pytest.fixture
def open_round(tree, supplier, packages):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="第1期 保供套餐",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)
