"""Sixty days of stock reports for the demo district's outlets, with a few alerts to see.

Rows are generated in memory and written with core.bulk.insert_rows (COPY on
PostgreSQL), so the whole history takes a second or two. The story in the
numbers: most items sell steadily and are restocked when low; at the first
outlet pork prices climb for a week (price alerts, repeated: gouging to look
at); at the second, eggs are not restocked (low stock, a falling
stock-to-sales ratio); the last outlet has not reported today (the deadline
page). Loading twice writes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from baogong.areas.models import Area
from baogong.core.bulk import insert_rows
from baogong.monitoring.catalogue import load_default_commodities
from baogong.monitoring.models import Commodity, OutletReport, ReportingSchedule
from baogong.monitoring.services import alerts_evaluate
from baogong.supply.models import Outlet

DAYS = 60
SEED = 20220415
GOUGING_DAYS = 7  # pork at the first outlet climbs this many days before today
FIELDS = (
    "outlet_id", "commodity_id", "date", "revision", "is_latest", "opening", "received",
    "sold", "closing", "price", "flags", "channel", "entered_by_id", "created_at", "updated_at",
)  # fmt: skip
CENT = Decimal("0.01")


def _series(
    rng: random.Random, baseline: Decimal, days: list[dt.date], *, gouge: bool, starve: bool
) -> list[tuple]:
    """One outlet's (date, opening, in, out, closing, price) for one item."""
    daily = Decimal(rng.randint(20, 200))
    stock = daily * rng.randint(6, 10)
    price = baseline
    rows = []
    for index, day in enumerate(days):
        left = len(days) - index  # 1 on the last day
        sold = (daily * Decimal(rng.uniform(0.8, 1.2))).quantize(Decimal("1"))
        restock = stock < daily * 5 and not (starve and left <= 10)
        received = daily * 6 if restock else Decimal(0)
        sold = min(sold, stock + received)
        if starve and left <= 10:
            sold = min(stock + received, daily * Decimal("1.5"))  # people buy eggs up
        if gouge and left <= GOUGING_DAYS:
            price = (price * Decimal("1.08")).quantize(CENT)
        else:
            price = (baseline * Decimal(rng.uniform(0.97, 1.04))).quantize(CENT)
        if gouge and left == 1:
            price = (price * Decimal("1.25")).quantize(CENT)
        closing = stock + received - sold
        rows.append((day, stock, received, sold, closing, price))
        stock = closing
    return rows


@transaction.atomic
def demo_monitoring(*, district: Area) -> int:
    """Write the history and schedules for `district`; return the reports written."""
    outlets = list(Outlet.objects.filter(area__path__startswith=district.path).order_by("pk"))
    if not outlets or OutletReport.objects.filter(outlet__in=outlets).exists():
        return 0
    load_default_commodities(Commodity)  # in case the migration's rows were removed
    commodities = list(Commodity.objects.filter(is_active=True))
    rng = random.Random(SEED)
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    now = timezone.now()
    rows = []
    for o_index, outlet in enumerate(outlets):
        for commodity in commodities:
            series = _series(
                rng,
                commodity.baseline_price,
                days,
                gouge=o_index == 0 and commodity.code == "pork",
                starve=o_index == 1 and commodity.code == "eggs",
            )
            silent_today = o_index == len(outlets) - 1
            for day, opening, received, sold, closing, price in series:
                if silent_today and day == today:
                    continue
                rows.append(
                    (
                        outlet.pk,
                        commodity.pk,
                        day,
                        1,
                        True,
                        opening,
                        received,
                        sold,
                        closing,
                        price,
                        "",
                        OutletReport.Channel.DEMO,
                        None,
                        now,
                        now,
                    )
                )
    written = insert_rows(OutletReport, FIELDS, rows)
    _schedules(district)
    _alerts(outlets, commodities, days)
    return written


def _schedules(district: Area) -> None:
    ReportingSchedule.objects.get_or_create(
        area=district,
        name="每日进销存日报",
        defaults={"kind": ReportingSchedule.Kind.DAILY, "due_time": dt.time(20, 0)},
    )
    ReportingSchedule.objects.get_or_create(
        area=district,
        name="旬报（10日、20日、30日）",
        defaults={
            "kind": ReportingSchedule.Kind.PERIODIC,
            "due_time": dt.time(9, 0),
            "days_of_month": "10,20,30",
        },
    )


def _alerts(outlets: list[Outlet], commodities: list[Commodity], days: list[dt.date]) -> None:
    """Check today's figures everywhere, and the gouging week at the first outlet."""
    for outlet in outlets:
        for commodity in commodities:
            alerts_evaluate(outlet=outlet, commodity=commodity, date=days[-1])
    pork = next((c for c in commodities if c.code == "pork"), None)
    if pork is not None:
        for day in days[-GOUGING_DAYS:-1]:
            alerts_evaluate(outlet=outlets[0], commodity=pork, date=day)
