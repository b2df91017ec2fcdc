"""Reads the monitoring pages, exports, alerts and the benchmark share.

Who sees what: area staff who watch the market (MONITOR_ROLES) see the outlets
whose area lies under their grant; a supplier user sees its own outlets. The
figures are computed by the database: conditional aggregates over one window
of days for a dashboard, window functions (LAG, a moving AVG) for one outlet's
series. Python only divides the few dozen totals that come back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, Lag

from baogong.accounts.models import Role
from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import NotFound
from baogong.monitoring.models import Alert, Commodity, OutletReport
from baogong.supply.models import Outlet, Supplier

if TYPE_CHECKING:
    from baogong.accounts.models import User

# Area roles that watch the market: dashboards, alerts, who has reported, reserves.
MONITOR_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.BUREAU_STAFF, Role.MARKET_SUPERVISION}
)
# The bureau sets thresholds and schedules and handles every alert.
BUREAU_ROLES = frozenset({Role.BUREAU_STAFF})
# Market supervision handles price alerts (gouging, 哄抬物价).
PRICE_ROLES = frozenset({Role.BUREAU_STAFF, Role.MARKET_SUPERVISION})
# Average daily sales are taken over this many reported days.
SALES_WINDOW = 7
HUNDRED = Decimal("100")


def _q2(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return _q2(Decimal(numerator) / Decimal(denominator))


def change_pct(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or not before:
        return None
    return _q2((Decimal(now) - Decimal(before)) / Decimal(before) * HUNDRED)


def ancestor_paths(path: str) -> list[str]:
    """ "/1/7/42/" → ["/1/", "/1/7/", "/1/7/42/"]: the nodes whose grants reach this one."""
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# --- scoping --------------------------------------------------------------------------


def _under(paths: list[str], prefix: str) -> Q | None:
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def outlets_for(user: User, roles: frozenset[str] = MONITOR_ROLES) -> QuerySet[Outlet]:
    """Outlets `user` reaches: under an area grant with one of `roles`, or its supplier's own."""
    scope = scope_for(user)
    if scope.superuser:
        return Outlet.objects.filter(area__isnull=False)
    q = _under(scope.paths_for(roles), "area__")
    if scope.supplier_ids:
        own = Q(supplier_id__in=scope.supplier_ids)
        q = own if q is None else q | own
    return Outlet.objects.filter(q) if q is not None else Outlet.objects.none()


def outlet_for(user: User, pk: int, roles: frozenset[str] = MONITOR_ROLES) -> Outlet:
    try:
        return outlets_for(user, roles).select_related("supplier", "area").get(pk=pk)
    except Outlet.DoesNotExist:
        raise NotFound() from None


def reporting_outlet_for(user: User, pk: int) -> Outlet:
    """An outlet `user` files reports for: one of its supplier's (or any, for a superuser)."""
    scope = scope_for(user)
    outlets = Outlet.objects.select_related("supplier", "area")
    if not scope.superuser:
        outlets = outlets.filter(supplier_id__in=scope.supplier_ids)
    try:
        return outlets.get(pk=pk)
    except Outlet.DoesNotExist:
        raise NotFound() from None


def reporting_supplier_for(user: User, pk: int) -> Supplier:
    scope = scope_for(user)
    if not (scope.superuser or pk in scope.supplier_ids):
        raise NotFound()
    try:
        return Supplier.objects.get(pk=pk)
    except Supplier.DoesNotExist:
        raise NotFound() from None


def monitor_area_for(user: User, pk: int, roles: frozenset[str] = MONITOR_ROLES) -> Area:
    return scope_for(user).area(pk, roles)


def alerts_for(user: User) -> QuerySet[Alert]:
    """Alerts of the outlets `user` reaches; market supervision sees price alerts only."""
    scope = scope_for(user)
    alerts = Alert.objects.select_related("outlet__supplier", "outlet__area", "commodity")
    if scope.superuser:
        return alerts
    q = _under(scope.paths_for(MONITOR_ROLES - {Role.MARKET_SUPERVISION}), "outlet__area__")
    price = _under(scope.paths_for(frozenset({Role.MARKET_SUPERVISION})), "outlet__area__")
    if price is not None:
        price &= Q(kind=Alert.Kind.PRICE_RISE)
        q = price if q is None else q | price
    if scope.supplier_ids:
        own = Q(outlet__supplier_id__in=scope.supplier_ids)
        q = own if q is None else q | own
    return alerts.filter(q) if q is not None else alerts.none()


def alert_for(user: User, pk: int) -> Alert:
    try:
        return alerts_for(user).get(pk=pk)
    except Alert.DoesNotExist:
        raise NotFound() from None


def can_handle(user: User, alert: Alert) -> bool:
    """Bureau staff handle any alert of their area; market supervision its price alerts."""
    scope = scope_for(user)
    if scope.superuser:
        return True
    roles = PRICE_ROLES if alert.kind == Alert.Kind.PRICE_RISE else BUREAU_ROLES
    path = alert.outlet.area.path if alert.outlet.area_id else None
    return path is not None and any(path.startswith(p) for p in scope.paths_for(roles))


# --- reports ------------------------------------------------------------------------------


def latest_reports() -> QuerySet[OutletReport]:
    return OutletReport.objects.filter(is_latest=True)


def previous_price(outlet_id: int, commodity_id: int, date: dt.date) -> Decimal | None:
    return (
        latest_reports()
        .filter(outlet_id=outlet_id, commodity_id=commodity_id, date__lt=date)
        .order_by("-date")
        .values_list("price", flat=True)
        .first()
    )


def outlet_series(
    outlet_id: int, *, commodity_ids: list[int] | None = None, start: dt.date, end: dt.date
) -> QuerySet[OutletReport]:
    """The outlet's latest reports from `start` to `end` with the figures derived from each.

    Window functions per (outlet, commodity) ordered by date: `avg_sold` over the
    last SALES_WINDOW reports, and the previous report's price, closing and sales.
    Reports before `start` feed the windows and are filtered out afterwards.
    """
    partition = [F("outlet_id"), F("commodity_id")]
    order = F("date").asc()
    rows = latest_reports().filter(
        outlet_id=outlet_id,
        date__gte=start - dt.timedelta(days=SALES_WINDOW * 2),
        date__lte=end,
    )
    if commodity_ids is not None:
        rows = rows.filter(commodity_id__in=commodity_ids)
    return (
        rows.annotate(
            avg_sold=Window(
                Avg("sold"),
                partition_by=partition,
                order_by=order,
                frame=RowRange(start=-(SALES_WINDOW - 1), end=0),
            ),
            prev_price=Window(Lag("price"), partition_by=partition, order_by=order),
            prev_closing=Window(Lag("closing"), partition_by=partition, order_by=order),
            prev_sold=Window(Lag("sold"), partition_by=partition, order_by=order),
            # The report's own date as a window value: a filter on it is applied after
            # the windows are computed (Django wraps the query), a filter on `date` before.
            day=Window(Max("date"), partition_by=[F("pk")]),
        )
        .filter(day__gte=start)
        .select_related("commodity")
        .order_by("commodity__position", "commodity_id", "date")
    )


@dataclass
class Derived:
    """The figures derived from one report (or one area's totals) for one day."""

    stock: Decimal | None
    sold: Decimal | None
    avg_sold: Decimal | None
    price: Decimal | None
    prev_price: Decimal | None
    baseline: Decimal
    ratio_now: Decimal | None
    ratio_before: Decimal | None

    @property
    def days_of_cover(self) -> Decimal | None:
        return ratio(self.stock, self.avg_sold)

    @property
    def price_change_pct(self) -> Decimal | None:
        return change_pct(self.price, self.prev_price)

    @property
    def baseline_change_pct(self) -> Decimal | None:
        return change_pct(self.price, self.baseline)

    @property
    def ratio_change_pct(self) -> Decimal | None:
        return change_pct(self.ratio_now, self.ratio_before)


def derived_of(report: OutletReport) -> Derived:
    """Derived figures of a report annotated by `outlet_series`."""
    return Derived(
        stock=report.closing,
        sold=report.sold,
        avg_sold=report.avg_sold,
        price=report.price,
        prev_price=report.prev_price,
        baseline=report.commodity.baseline_price,
        ratio_now=ratio(report.closing, report.sold),
        ratio_before=ratio(report.prev_closing, report.prev_sold),
    )


# --- area dashboards -----------------------------------------------------------------


def _area_reports(area: Area, start: dt.date, end: dt.date) -> QuerySet[OutletReport]:
    return latest_reports().filter(
        outlet__area__path__startswith=area.path, date__gte=start, date__lte=end
    )


# Totals that add up across groups (sums and counts); an average price is a sum over a count.
_ADDITIVE = (
    "t_stock", "t_sold", "t_stock_before", "t_sold_before", "t_sold_window",
    "t_price", "t_priced", "t_price_before", "t_priced_before", "t_outlets",
)  # fmt: skip


def _day_totals(date: dt.date) -> dict:
    """Conditional aggregates giving one day's figures over a SALES_WINDOW of days."""
    yesterday = date - dt.timedelta(days=1)
    today, before = Q(date=date), Q(date=yesterday)
    return {
        "t_stock": Sum("closing", filter=today),
        "t_sold": Sum("sold", filter=today),
        "t_stock_before": Sum("closing", filter=before),
        "t_sold_before": Sum("sold", filter=before),
        "t_sold_window": Sum("sold"),
        "t_days": Count("date", distinct=True),
        "t_price": Sum("price", filter=today),
        "t_priced": Count("price", filter=today),
        "t_price_before": Sum("price", filter=before),
        "t_priced_before": Count("price", filter=before),
        # An outlet is in one area, so its reports of the day are counted in one group.
        "t_outlets": Count("outlet_id", filter=today),
    }


def _add(into: dict | None, row: dict) -> dict:
    if into is None:
        return dict(row)
    for key in _ADDITIVE:
        into[key] = (into[key] or 0) + (row[key] or 0)
    # Days with reports: the most any group had (all outlets report the same days as a rule).
    into["t_days"] = max(into["t_days"], row["t_days"])
    return into


def _derived_from_totals(row: dict, baseline: Decimal) -> Derived:
    days = row["t_days"] or 0
    return Derived(
        stock=row["t_stock"],
        sold=row["t_sold"],
        avg_sold=(row["t_sold_window"] / days) if days else None,
        price=_q2(row["t_price"] / row["t_priced"]) if row["t_priced"] else None,
        prev_price=(
            _q2(row["t_price_before"] / row["t_priced_before"]) if row["t_priced_before"] else None
        ),
        baseline=baseline,
        ratio_now=ratio(row["t_stock"], row["t_sold"]),
        ratio_before=ratio(row["t_stock_before"], row["t_sold_before"]),
    )


@dataclass
class CommodityDay:
    commodity: Commodity
    figures: Derived
    outlets: int

    @property
    def low(self) -> bool:
        cover = self.figures.days_of_cover
        return cover is not None and cover < self.commodity.min_days_of_cover

    @property
    def price_high(self) -> bool:
        rise = self.figures.baseline_change_pct
        return rise is not None and rise > self.commodity.max_baseline_rise_pct


@dataclass
class ChildDay:
    area: Area
    commodities: list[CommodityDay]


@dataclass
class AreaDay:
    commodities: list[CommodityDay]  # the whole area, per commodity
    children: list[ChildDay]  # per child area (a district's streets), per commodity


def _commodity_days(totals: dict[int, dict], commodities: list[Commodity]) -> list[CommodityDay]:
    return [
        CommodityDay(c, _derived_from_totals(totals[c.pk], c.baseline_price),
                     totals[c.pk]["t_outlets"] or 0)
        for c in commodities
        if c.pk in totals
    ]  # fmt: skip


def area_day(area: Area, date: dt.date) -> AreaDay:
    """The area's stock, days of cover, ratio and prices on `date`, whole and per child area.

    One grouped query: the window's reports summed per (outlet's area, commodity) by
    the database. The few hundred groups are then added up into the area's totals
    and its children's (each group's area lies under exactly one child).
    """
    start = date - dt.timedelta(days=SALES_WINDOW - 1)
    groups = list(
        _area_reports(area, start, date)
        .values("outlet__area_id", "commodity_id")
        .annotate(**_day_totals(date))
        .order_by()
    )
    children = list(Area.objects.filter(parent=area).order_by("path"))
    paths = dict(
        Area.objects.filter(pk__in={g["outlet__area_id"] for g in groups}).values_list("pk", "path")
    )
    child_of = {
        area_id: next((c.pk for c in children if path.startswith(c.path)), None)
        for area_id, path in paths.items()
    }
    whole: dict[int, dict] = {}
    per_child: dict[int, dict[int, dict]] = {c.pk: {} for c in children}
    for group in groups:
        commodity_id = group["commodity_id"]
        whole[commodity_id] = _add(whole.get(commodity_id), group)
        child = child_of.get(group["outlet__area_id"])
        if child is not None:
            per_child[child][commodity_id] = _add(per_child[child].get(commodity_id), group)
    commodities = list(Commodity.objects.filter(is_active=True))
    return AreaDay(
        commodities=_commodity_days(whole, commodities),
        children=[ChildDay(c, _commodity_days(per_child[c.pk], commodities)) for c in children],
    )


@dataclass
class SeriesPoint:
    date: dt.date
    stock: Decimal
    days_of_cover: Decimal | None
    price: Decimal | None


def area_series(
    area: Area, commodity: Commodity, *, start: dt.date, end: dt.date
) -> list[SeriesPoint]:
    """Daily totals of one commodity in the area: stock, days of cover and average price.

    The database sums per day (one GROUP BY); the trailing average of daily sales
    is then taken over those few dozen daily totals.
    """
    totals = list(
        _area_reports(area, start - dt.timedelta(days=SALES_WINDOW - 1), end)
        .filter(commodity=commodity)
        .values("date")
        .annotate(t_stock=Sum("closing"), t_sold=Sum("sold"), t_price=Avg("price"))
        .order_by("date")
    )
    points = []
    for index, row in enumerate(totals):
        if row["date"] < start:
            continue
        window = [r["t_sold"] for r in totals[max(0, index - SALES_WINDOW + 1) : index + 1]]
        average = sum(window) / len(window)
        points.append(
            SeriesPoint(
                row["date"], row["t_stock"], ratio(row["t_stock"], average), _q2(row["t_price"])
            )
        )
    return points


def _count_per_outlet(alerts: QuerySet[Alert]) -> Coalesce:
    """A correlated COUNT of `alerts` for the outer outlet row."""
    counted = (
        alerts.filter(outlet_id=OuterRef("pk"))
        .order_by()
        .values("outlet_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def outlet_statuses(outlets: QuerySet[Outlet], date: dt.date) -> QuerySet[Outlet]:
    """Outlets annotated with whether they reported on `date` and their open alerts."""
    return (
        outlets.select_related("supplier", "area")
        .annotate(
            reported=Exists(latest_reports().filter(outlet_id=OuterRef("pk"), date=date)),
            open_alerts=_count_per_outlet(Alert.objects.filter(state=Alert.State.OPEN)),
        )
        .order_by("reported", "-open_alerts", "supplier__name", "name")
    )


def status_counts(outlets: QuerySet[Outlet], date: dt.date) -> dict[str, int]:
    reported = latest_reports().filter(outlet_id=OuterRef("pk"), date=date)
    alerted = Alert.objects.filter(outlet_id=OuterRef("pk"), state=Alert.State.OPEN)
    return outlets.aggregate(
        total=Count("pk"),
        reported=Count("pk", filter=Q(Exists(reported))),
        alerted=Count("pk", filter=Q(Exists(alerted))),
    )


def district_dashboard(area: Area, date: dt.date) -> dict:
    """Everything the district dashboard shows for one day (the benchmark times this)."""
    outlets = Outlet.objects.filter(area__path__startswith=area.path)
    figures = area_day(area, date)
    return {
        "commodities": figures.commodities,
        "children": figures.children,
        "counts": status_counts(outlets, date),
    }


# --- reserves -----------------------------------------------------------------------------


@dataclass
class ReserveRow:
    supplier: Supplier
    commodity: Commodity
    stock: Decimal
    normal_daily_sales: Decimal
    required: Decimal

    @property
    def days(self) -> Decimal | None:
        return ratio(self.stock, self.normal_daily_sales)

    @property
    def shortfall(self) -> Decimal:
        return _q2(self.required - self.stock)


def reserve_shortfalls(area: Area, date: dt.date, *, normal_days: int = 30) -> list[ReserveRow]:
    """Per supplier and commodity: stock on `date` below `reserve_days` of normal daily sales.

    Normal daily sales are the average over the `normal_days` before `date` (one
    grouped query over the outlets of the area); the rows below requirement are returned,
    worst first.
    """
    start = date - dt.timedelta(days=normal_days)
    rows = (
        _area_reports(area, start, date)
        .values("outlet__supplier_id", "commodity_id")
        .annotate(
            t_stock=Sum("closing", filter=Q(date=date)),
            t_sold=Sum("sold", filter=Q(date__lt=date)),
            t_days=Count("date", distinct=True, filter=Q(date__lt=date)),
        )
        .order_by()
    )
    commodities = {c.pk: c for c in Commodity.objects.all()}
    by_pk = {s.pk: s for s in Supplier.objects.filter(outlets__area__path__startswith=area.path)}
    result = []
    for row in rows:
        if row["t_stock"] is None or not row["t_days"]:
            continue
        commodity = commodities[row["commodity_id"]]
        normal = _q2(row["t_sold"] / row["t_days"])
        required = _q2(normal * commodity.reserve_days)
        if row["t_stock"] < required:
            result.append(
                ReserveRow(
                    by_pk[row["outlet__supplier_id"]], commodity, row["t_stock"], normal, required
                )
            )
    result.sort(key=lambda r: (r.days if r.days is not None else Decimal(0), r.supplier.name))
    return result


# --- repeated gouging ----------------------------------------------------------------------


def repeat_price_offenders(user: User, *, since: dt.date, minimum: int = 2) -> QuerySet[Outlet]:
    """Outlets `user` reaches with at least `minimum` price alerts since `since`, most first."""
    alerts = alerts_for(user).filter(kind=Alert.Kind.PRICE_RISE, date__gte=since)
    return (
        Outlet.objects.filter(pk__in=alerts.values("outlet_id"))
        .annotate(price_alerts=_count_per_outlet(alerts))
        .filter(price_alerts__gte=minimum)
        .select_related("supplier", "area")
        .order_by("-price_alerts", "supplier__name", "name")
    )
