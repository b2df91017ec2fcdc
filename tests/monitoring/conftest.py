from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from baogong.accounts.models import Role
from baogong.monitoring import services
from baogong.monitoring.catalogue import load_default_commodities
from baogong.monitoring.checks import Figures
from baogong.monitoring.models import Commodity, OutletReport
from baogong.supply.models import Outlet, Supplier

# Every test runs on a fixed day, so "today" and deadlines are the same everywhere.
NOW = dt.datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def catalogue(db) -> None:
    """The migration's catalogue; a transactional test elsewhere flushes it, so load it again."""
    load_default_commodities(Commodity)


@pytest.fixture
def rice(catalogue) -> Commodity:
    return Commodity.objects.get(code="rice")  # baseline 6.00, thresholds 3 days / 20% / 30%


@pytest.fixture
def eggs(catalogue) -> Commodity:
    return Commodity.objects.get(code="eggs")


@pytest.fixture
def supplier(db) -> Supplier:
    return Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)


@pytest.fixture
def outlet(tree, supplier) -> Outlet:
    return Outlet.objects.create(supplier=supplier, name="一号店", area=tree.community_a)


@pytest.fixture
def outlet_b(tree, supplier) -> Outlet:
    return Outlet.objects.create(supplier=supplier, name="二号店", area=tree.community_b)


@pytest.fixture
def supplier_user(user_with_role, supplier):
    return user_with_role(Role.SUPPLIER, supplier)


@pytest.fixture
def bureau(user_with_role, tree):
    return user_with_role(Role.BUREAU_STAFF, tree.district)


@pytest.fixture
def supervision(user_with_role, tree):
    return user_with_role(Role.MARKET_SUPERVISION, tree.district)


def figures(opening, received, sold, closing, price) -> Figures:
    return Figures(*(Decimal(str(v)) for v in (opening, received, sold, closing, price)))


def file(outlet, commodity, date, *values, by=None, channel=OutletReport.Channel.FORM):
    return services.report_submit(
        outlet=outlet,
        commodity=commodity,
        date=date,
        figures=figures(*values),
        channel=channel,
        by=by,
    )


def steady_days(outlet, commodity, *, days, sold=10, stock=100, price="6.00", end=TODAY):
    """`days` consistent reports ending `end`: the same sales and stock each day."""
    for offset in range(days - 1, -1, -1):
        file(outlet, commodity, end - dt.timedelta(days=offset), stock, sold, sold, stock, price)
