"""Derived figures against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from baogong.accounts.models import Role
from baogong.monitoring import queries
from baogong.monitoring.models import Alert
from tests.monitoring.conftest import TODAY, file

D = [TODAY - dt.timedelta(days=n) for n in range(10)]  # D[0] today, D[1] yesterday…


def test_outlet_series_days_of_cover_and_price_change(outlet, rice):
    # Sales 10, 20, 30 over three days; closing today 60; prices 6.00 → 6.60.
    file(outlet, rice, D[2], 150, 0, 10, 140, "6.00")
    file(outlet, rice, D[1], 140, 0, 20, 120, "6.00")
    file(outlet, rice, D[0], 120, 0, 30, 90, "6.60")
    report = queries.outlet_series(outlet.pk, start=D[0], end=D[0]).get()
    derived = queries.derived_of(report)
    assert report.avg_sold == Decimal("20")  # (10+20+30)/3
    assert derived.days_of_cover == Decimal("4.50")  # 90 / 20
    assert derived.ratio_now == Decimal("3.00")  # 90 / 30
    assert derived.ratio_before == Decimal("6.00")  # 120 / 20
    assert derived.price_change_pct == Decimal("10.00")
    assert derived.baseline_change_pct == Decimal("10.00")  # baseline 6.00


def test_moving_average_uses_only_the_last_seven_reports(outlet, rice):
    for n in range(9, -1, -1):  # ten days: sales 100 on the first three, then 10
        sold = 100 if n >= 7 else 10
        file(outlet, rice, D[n], 500, 0, sold, 500 - sold, "6.00")
    report = queries.outlet_series(outlet.pk, start=D[0], end=D[0]).get()
    assert report.avg_sold == Decimal("10")


def test_area_day_sums_outlets_and_averages_sales_over_the_window(outlet, outlet_b, rice, tree):
    file(outlet, rice, D[1], 100, 0, 10, 90, "6.00")
    file(outlet, rice, D[0], 90, 0, 20, 70, "6.00")
    file(outlet_b, rice, D[1], 50, 0, 10, 40, "6.00")
    file(outlet_b, rice, D[0], 40, 0, 10, 30, "7.00")
    (row,) = queries.area_day(tree.district, D[0]).commodities
    assert row.outlets == 2
    assert row.figures.stock == Decimal("100")  # 70 + 30
    # Sales in the window: 10+20+10+10 = 50 over 2 days → 25 a day; 100 / 25 = 4.
    assert row.figures.days_of_cover == Decimal("4.00")
    assert row.figures.ratio_now == Decimal("3.33")  # 100 / 30
    assert row.figures.ratio_before == Decimal("6.50")  # 130 / 20
    assert row.figures.price == Decimal("6.50") and row.figures.prev_price == Decimal("6.00")
    assert row.figures.price_change_pct == Decimal("8.33")
    assert not row.low  # 4 ≥ 3


def test_district_view_splits_by_street(outlet, outlet_b, rice, tree):
    file(outlet, rice, D[0], 90, 0, 30, 60, "6.00")
    file(outlet_b, rice, D[0], 40, 0, 20, 20, "6.00")
    children = {c.area: c.commodities for c in queries.area_day(tree.district, D[0]).children}
    assert children[tree.street_a][0].figures.days_of_cover == Decimal("2.00")
    assert children[tree.street_a][0].low
    assert children[tree.street_b][0].figures.stock == Decimal("20")
    dashboard = queries.district_dashboard(tree.district, D[0])
    # Both are under 3 days of cover (2 and 1), so both have a low-stock alert open.
    assert dashboard["counts"] == {"total": 2, "reported": 2, "alerted": 2}


def test_area_series_gives_stock_cover_and_price_per_day(outlet, rice, tree):
    file(outlet, rice, D[2], 100, 0, 10, 90, "6.00")
    file(outlet, rice, D[1], 90, 0, 30, 60, "6.20")
    points = queries.area_series(tree.street_a, rice, start=D[1], end=D[0])
    assert [(p.date, p.stock, p.days_of_cover, p.price) for p in points] == [
        (D[1], Decimal("60"), Decimal("3.00"), Decimal("6.20"))  # 60 / ((10+30)/2)
    ]


def test_reserve_lists_enterprises_below_ten_days_of_normal_sales(outlet, outlet_b, rice, tree):
    for n in range(5, 0, -1):
        file(outlet, rice, D[n], 1000, 0, 20, 980, "6.00")
    file(outlet, rice, D[0], 980, 0, 20, 150, "6.00")  # flagged, still kept
    (row,) = queries.reserve_shortfalls(tree.district, D[0])
    # Normal sales 20 a day across the supplier; 10 days → 200 required; 150 held.
    assert (row.normal_daily_sales, row.required, row.stock) == (
        Decimal("20.00"),
        Decimal("200.00"),
        Decimal("150"),
    )
    assert row.days == Decimal("7.50") and row.shortfall == Decimal("50.00")


def test_outlets_and_alerts_are_scoped(outlet, outlet_b, rice, tree, user_with_role, supplier):
    file(outlet, rice, D[1], 100, 0, 10, 90, "6.00")
    file(outlet, rice, D[0], 90, 0, 10, 80, "7.50")
    file(outlet_b, rice, D[0], 90, 0, 10, 80, "6.00")
    street_a = user_with_role(Role.STREET_STAFF, tree.street_a)
    assert list(queries.outlets_for(street_a)) == [outlet]
    assert queries.alerts_for(street_a).count() == 1
    street_b = user_with_role(Role.BUREAU_STAFF, tree.street_b)
    assert queries.alerts_for(street_b).count() == 0
    resident = user_with_role(Role.RESIDENT, tree.household_a)
    assert not queries.outlets_for(resident).exists()
    assert set(queries.outlets_for(user_with_role(Role.SUPPLIER, supplier))) == {outlet, outlet_b}


def test_repeated_price_alerts_are_listed_per_outlet(outlet, outlet_b, rice, eggs, supervision):
    file(outlet, rice, D[2], 100, 0, 10, 90, "6.00")
    file(outlet, rice, D[1], 90, 0, 10, 80, "7.50")
    file(outlet, eggs, D[1], 100, 0, 10, 90, "16.00")  # over the baseline 11.00 by 45%
    file(outlet_b, rice, D[1], 90, 0, 10, 80, "7.90")
    assert Alert.objects.filter(kind=Alert.Kind.PRICE_RISE).count() == 3
    (offender,) = queries.repeat_price_offenders(supervision, since=D[5])
    assert offender == outlet and offender.price_alerts == 2
