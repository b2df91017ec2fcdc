"""Area pages for the people who watch the market: dashboard, export, deadlines, reserves."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from baogong.accounts.scoping import scope_for
from baogong.core.http import domain_errors
from baogong.monitoring import deadlines, excel, queries
from baogong.monitoring.forms import DayForm
from baogong.monitoring.models import Commodity, ReportingSchedule
from baogong.supply.models import Outlet

SERIES_DAYS = 30
OUTLETS_PAGE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their monitoring starts: their area's dashboard or their outlets."""
    scope = scope_for(request.user)
    paths = scope.paths_for(queries.MONITOR_ROLES)
    if paths:
        area = scope.areas(queries.MONITOR_ROLES).filter(path=paths[0]).first()
        return redirect("monitoring:dashboard", area_pk=area.pk)
    if scope.supplier_ids:
        return redirect("monitoring:reporting")
    if scope.superuser:
        area = scope.root_areas.first()
        if area is not None:
            return redirect("monitoring:dashboard", area_pk=area.pk)
    raise PermissionDenied


def _filters(request: HttpRequest) -> tuple[dt.date, Commodity | None]:
    form = DayForm(request.GET or None)
    day, commodity = timezone.localdate(), None
    if form.is_valid():
        day = form.cleaned_data["date"] or day
        commodity = form.cleaned_data["commodity"]
    return day, commodity or Commodity.objects.filter(is_active=True).first()


def _figures(area, day: dt.date, commodity: Commodity | None) -> dict:
    start = day - dt.timedelta(days=SERIES_DAYS - 1)
    series = queries.area_series(area, commodity, start=start, end=day) if commodity else []
    figures = queries.area_day(area, day)
    return {
        "commodity_days": figures.commodities,
        "children": [
            (child.area, next((c for c in child.commodities if c.commodity == commodity), None))
            for child in figures.children
        ],
        "series": series,
        "price_limit": (
            (commodity.baseline_price * (1 + commodity.max_baseline_rise_pct / 100)).quantize(
                commodity.baseline_price
            )
            if commodity
            else None
        ),
    }


@login_required
@domain_errors
def dashboard(request: HttpRequest, area_pk: int) -> HttpResponse:
    area = queries.monitor_area_for(request.user, area_pk)
    day, commodity = _filters(request)
    outlets = Outlet.objects.filter(area__path__startswith=area.path)
    page = Paginator(queries.outlet_statuses(outlets, day), OUTLETS_PAGE).get_page(
        request.GET.get("page")
    )
    figures = _figures(area, day, commodity)
    chart = {
        "labels": [p.date.strftime("%m-%d") for p in figures["series"]],
        "stock": [float(p.stock) for p in figures["series"]],
        "cover": [float(p.days_of_cover) if p.days_of_cover is not None else None
                  for p in figures["series"]],
        "price": [float(p.price) if p.price is not None else None for p in figures["series"]],
        "baseline": float(commodity.baseline_price) if commodity else None,
        "price_limit": float(figures["price_limit"]) if commodity else None,
        "cover_limit": float(commodity.min_days_of_cover) if commodity else None,
        "text": {
            "stock": _("Stock"), "cover": _("Days of cover"), "price": _("Average price"),
            "baseline": _("Baseline price"), "limit": _("Alert price"),
            "cover_limit": _("Alert below"),
        },
    }  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "area": area,
            "day": day,
            "commodity": commodity,
            "form": DayForm(initial={"date": day, "commodity": commodity}),
            "counts": queries.status_counts(outlets, day),
            "page": page,
            "query": query.urlencode(),
            "chart": chart,
            **figures,
        },
    )


def _num(value):
    return float(value) if value is not None else None


@login_required
@domain_errors
def dashboard_export(request: HttpRequest, area_pk: int) -> HttpResponse:
    """The dashboard's tables as a workbook: one sheet per table, the same figures."""
    area = queries.monitor_area_for(request.user, area_pk)
    day, commodity = _filters(request)
    figures = _figures(area, day, commodity)
    items = [
        (c.commodity.name, c.commodity.unit, c.outlets, _num(c.figures.stock),
         _num(c.figures.days_of_cover), _num(c.figures.ratio_now), _num(c.figures.price),
         _num(c.figures.price_change_pct), _num(c.figures.baseline_change_pct))
        for c in figures["commodity_days"]
    ]  # fmt: skip
    children = [
        (child.name, *(_num(getattr(c.figures, f)) if c else None
                       for f in ("stock", "days_of_cover", "price")))
        for child, c in figures["children"]
    ]  # fmt: skip
    series = [(p.date, _num(p.stock), _num(p.days_of_cover), _num(p.price))
              for p in figures["series"]]  # fmt: skip
    outlets = [
        (o.supplier.name, o.name, o.area.name if o.area_id else "",
         _("yes") if o.reported else _("no"), o.open_alerts)
        for o in queries.outlet_statuses(
            Outlet.objects.filter(area__path__startswith=area.path), day
        )
    ]  # fmt: skip
    data = excel.table_workbook([
        (_("Items"), [_("Item"), _("Unit"), _("Outlets reporting"), _("Stock"),
                      _("Days of cover"), _("Stock-to-sales ratio"), _("Average price"),
                      _("Change vs previous day (%)"), _("Change vs baseline (%)")], items),
        (_("Areas"), [_("Area"), _("Stock"), _("Days of cover"), _("Average price")], children),
        (_("Trend"), [_("Date"), _("Stock"), _("Days of cover"), _("Average price")], series),
        (_("Outlets"), [_("Supplier"), _("Outlet"), _("Area"), _("Reported"),
                        _("Open alerts")], outlets),
    ])  # fmt: skip
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"monitoring-{area.pk}-{day.isoformat()}-{commodity.code if commodity else ''}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _schedules_for(area) -> list[ReportingSchedule]:
    """Schedules that apply in `area`: set on it, on a node above it, or on one below."""
    return list(
        ReportingSchedule.objects.filter(
            Q(area__path__in=queries.ancestor_paths(area.path))
            | Q(area__path__startswith=area.path),
            is_active=True,
        ).select_related("area")
    )


@login_required
@domain_errors
def deadlines_page(request: HttpRequest, area_pk: int) -> HttpResponse:
    """Who has and has not reported for a schedule's deadline."""
    area = queries.monitor_area_for(request.user, area_pk)
    schedules = _schedules_for(area)
    schedule = next(
        (s for s in schedules if str(s.pk) == request.GET.get("schedule")),
        schedules[0] if schedules else None,
    )
    form = DayForm(request.GET or None)
    report_date = form.cleaned_data.get("date") if form.is_valid() else None
    due = None
    if schedule is not None and report_date is None:
        due = deadlines.last_due(
            kind=schedule.kind,
            due_time=schedule.due_time,
            days=schedule.days(),
            at=timezone.localtime(),
        )
        report_date = due.report_date if due else timezone.localdate()
    report_date = report_date or timezone.localdate()
    scope_area = area
    if schedule is not None and schedule.area.path.startswith(area.path):
        scope_area = schedule.area
    outlets = queries.outlet_statuses(
        Outlet.objects.filter(area__path__startswith=scope_area.path), report_date
    )
    missing = [o for o in outlets if not o.reported]
    reported = [o for o in outlets if o.reported]
    scope = scope_for(request.user)
    return render(
        request,
        "monitoring/deadlines.html",
        {
            "area": area,
            "schedules": schedules,
            "schedule": schedule,
            "report_date": report_date,
            "due": due,
            "missing": missing,
            "reported": reported,
            "can_edit": scope.has_any(queries.BUREAU_ROLES)
            and scope.areas(queries.BUREAU_ROLES).filter(pk=area.pk).exists(),
        },
    )


@login_required
@domain_errors
def reserve(request: HttpRequest, area_pk: int) -> HttpResponse:
    """Enterprises whose stock is below the required reserve of normal sales."""
    area = queries.monitor_area_for(request.user, area_pk)
    day, _commodity = _filters(request)
    return render(
        request,
        "monitoring/reserve.html",
        {
            "area": area,
            "day": day,
            "rows": queries.reserve_shortfalls(area, day),
        },
    )
