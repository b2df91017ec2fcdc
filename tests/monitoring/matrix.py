"""Monitoring pages and endpoints in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from baogong.accounts.models import Role
from baogong.monitoring.catalogue import load_default_commodities
from baogong.monitoring.models import Alert, Commodity, OutletReport, ReportingSchedule
from baogong.supply.models import Outlet

MONITOR = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.BUREAU_STAFF, Role.MARKET_SUPERVISION}


def build(side) -> dict:
    outlet = Outlet.objects.create(supplier=side.supplier, name="监测门店", area=side.community)
    load_default_commodities(Commodity)  # flushed by any transactional test before this one
    rice = Commodity.objects.get(code="rice")
    today = timezone.localdate()
    OutletReport.objects.create(
        outlet=outlet,
        commodity=rice,
        date=today,
        opening=Decimal("100"),
        received=Decimal("0"),
        sold=Decimal("10"),
        closing=Decimal("90"),
        price=Decimal("9.00"),
        channel=OutletReport.Channel.FORM,
    )
    # A price alert: market supervision sees those (and only those).
    alert = Alert.objects.create(
        kind=Alert.Kind.PRICE_RISE,
        outlet=outlet,
        commodity=rice,
        date=today,
        value=Decimal("9.00"),
        threshold=Decimal("7.80"),
        dedupe_key=f"matrix:{outlet.pk}",
    )
    schedule = ReportingSchedule.objects.create(
        area=side.street, name="每日", kind=ReportingSchedule.Kind.DAILY, due_time=dt.time(20)
    )
    return {"m_outlet": outlet, "m_alert": alert, "m_schedule": schedule}


def _area(s):
    return {"area_pk": s.street.pk}


TARGETS = {
    "monitoring:dashboard": ("get", _area, MONITOR),
    "monitoring:dashboard_export": ("get", _area, MONITOR),
    "monitoring:deadlines": ("get", _area, MONITOR),
    "monitoring:reserve": ("get", _area, MONITOR),
    "monitoring:schedule_create": ("get", _area, {Role.BUREAU_STAFF}),
    "monitoring:schedule_edit": (
        "get",
        lambda s: {"pk": s.extra["m_schedule"].pk},
        {Role.BUREAU_STAFF},
    ),
    "monitoring:alert_detail": (
        "get",
        lambda s: {"pk": s.extra["m_alert"].pk},
        MONITOR | {Role.SUPPLIER},
    ),
    "monitoring:outlet_detail": (
        "get",
        lambda s: {"pk": s.extra["m_outlet"].pk},
        MONITOR | {Role.SUPPLIER},
    ),
    "monitoring:report_entry": ("get", lambda s: {"pk": s.extra["m_outlet"].pk}, {Role.SUPPLIER}),
    "monitoring:report_upload": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "monitoring:report_template": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
}
NOT_OBJECT_SCOPED = {
    "monitoring:home",
    "monitoring:alert_list",
    "monitoring:repeat_price_alerts",
    "monitoring:reporting",
    "monitoring:commodity_list",
    # The catalogue is one for the whole system (items and thresholds, no one's data);
    # only bureau staff may change it (tests/monitoring/test_views.py).
    "monitoring:commodity_edit",
}
API_TARGETS = {
    "api:monitoring_reports_get": ("get", lambda s: {"outlet_id": s.extra["m_outlet"].pk}),
}
API_UNSCOPED = {
    "api:monitoring_commodities",
    # Scoped to the token's outlets like the GET, but the matrix's order-shaped body fails
    # validation (422) before the outlet is looked up: tests/monitoring/test_api.py covers it.
    "api:monitoring_reports_post",
}
