"""Market monitoring at district scale: bulk-load outlet reports, time the district dashboard.

    .venv/bin/python bench/monitoring_load.py                      # 2,000 × 30 × 60 = 3.6 M rows
    .venv/bin/python bench/monitoring_load.py --outlets 200 --days 20   # a quick look

1. Creates the PostgreSQL database `baogong_bench_monitoring` (dropped at the
   end; `--pg-url` to change) and migrates it.
2. Creates one district with 10 streets, 2,000 outlets spread over them (100
   suppliers of 20 outlets) and 30 commodities (the 13 of the default catalogue
   and 17 more).
3. Generates one report per outlet, commodity and day, day after day as reports
   arrive (steady sales with restocking and ±5 % price noise, fixed seed) and
   streams them into the table
   with COPY (`baogong.core.bulk.insert_rows`), indexes and constraints in place,
   then ANALYZEs. Prints rows, seconds and rows/s.
4. Times `monitoring.queries.district_dashboard` for the last day (per commodity:
   stock, days of cover over 7 days, stock-to-sales ratio and its change, average
   price and its change; the same per street; outlet counts by status), cold
   (first run) and warm (median of 5), then the rest of the dashboard page (the
   30-day trend of one commodity and the first page of outlets by status).

The figures come from conditional aggregates over the partial index
(date, commodity, outlet) WHERE is_latest; nothing loops over report rows in Python.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/baogong_bench_monitoring"
STREETS = 10
OUTLETS_PER_SUPPLIER = 20
EXTRA_COMMODITIES = 17


def _pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    admin_url = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement)


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baogong.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup_world(outlets: int):
    """District, streets, suppliers, outlets and 30 commodities; return (district, ids…)."""
    from decimal import Decimal

    from django.core.management import call_command

    from baogong.areas.models import Area
    from baogong.areas.services import area_create
    from baogong.monitoring.models import Commodity
    from baogong.supply.models import Outlet, Supplier

    call_command("migrate", verbosity=0)
    district = area_create(parent=None, kind=Area.Kind.DISTRICT, name="基准区", by=None)
    streets = [
        area_create(parent=district, kind=Area.Kind.STREET, name=f"基准街道{n + 1}", by=None)
        for n in range(STREETS)
    ]
    suppliers = Supplier.objects.bulk_create(
        Supplier(name=f"基准企业{n + 1}", kind=Supplier.Kind.SUPERMARKET)
        for n in range((outlets + OUTLETS_PER_SUPPLIER - 1) // OUTLETS_PER_SUPPLIER)
    )
    Outlet.objects.bulk_create(
        Outlet(
            supplier=suppliers[n // OUTLETS_PER_SUPPLIER],
            name=f"门店{n + 1}",
            area=streets[n % STREETS],
        )
        for n in range(outlets)
    )
    Commodity.objects.bulk_create(
        Commodity(
            code=f"extra-{n + 1}",
            name=f"附加商品{n + 1}",
            category=Commodity.Category.CONVENIENCE,
            unit="件",
            baseline_price=Decimal("10.00") + n,
            position=100 + n,
        )
        for n in range(EXTRA_COMMODITIES)
    )
    return district


def report_rows(outlet_ids, commodities, days, now):
    """Yield report tuples in FIELDS order, day by day as reports arrive in real life.

    Steady sales with ±10 units of noise, a restock of six days' sales when under
    five days are left, prices within ±5 % of the baseline (fixed seed).
    """
    rng = random.Random(7)
    series = []  # per (outlet, commodity): [outlet_id, commodity_id, daily, stock, prices]
    for outlet_id in outlet_ids:
        for commodity_id, baseline in commodities:
            daily = rng.randint(20, 200)
            prices = [f"{baseline * (0.95 + 0.1 * rng.random()):.2f}" for _ in range(7)]
            series.append([outlet_id, commodity_id, daily, daily * rng.randint(6, 10), prices])
    for index, day in enumerate(days):
        for state in series:
            outlet_id, commodity_id, daily, stock, prices = state
            sold = min(stock, daily + (index * 7919 + outlet_id) % 21 - 10)
            received = daily * 6 if stock - sold < daily * 5 else 0
            closing = stock + received - sold
            yield (
                outlet_id, commodity_id, day, 1, True, stock, received, sold, closing,
                prices[index % 7], "", "api", None, now, now,
            )  # fmt: skip
            state[3] = closing


def load(days_count: int) -> tuple[int, float, float]:
    from django.db import connection, transaction
    from django.utils import timezone

    from baogong.core.bulk import insert_rows
    from baogong.monitoring.demo import FIELDS
    from baogong.monitoring.models import Commodity, OutletReport
    from baogong.supply.models import Outlet

    outlet_ids = list(Outlet.objects.order_by("pk").values_list("pk", flat=True))
    commodities = [(c.pk, float(c.baseline_price)) for c in Commodity.objects.order_by("pk")]
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in range(days_count - 1, -1, -1)]
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        written = insert_rows(
            OutletReport, FIELDS, report_rows(outlet_ids, commodities, days, timezone.now())
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OutletReport._meta.db_table}")
    return written, time.perf_counter() - started, time.process_time() - cpu


def time_dashboard(district) -> dict[str, float]:
    from django.core.paginator import Paginator
    from django.db import reset_queries
    from django.utils import timezone

    from baogong.monitoring import queries
    from baogong.monitoring.models import Commodity
    from baogong.supply.models import Outlet

    day = timezone.localdate()
    reset_queries()
    started = time.perf_counter()
    figures = queries.district_dashboard(district, day)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        queries.district_dashboard(district, day)
        warm.append(time.perf_counter() - started)
    rice = Commodity.objects.get(code="rice")
    started = time.perf_counter()
    queries.area_series(district, rice, start=day - dt.timedelta(days=29), end=day)
    outlets = Outlet.objects.filter(area__path__startswith=district.path)
    list(Paginator(queries.outlet_statuses(outlets, day), 50).get_page(1))
    rest = time.perf_counter() - started
    assert len(figures["commodities"]) == 30 and len(figures["children"]) == STREETS
    return {"cold": cold, "warm": statistics.median(warm), "rest": rest,
            "reported": figures["counts"]["reported"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--pg-url", default=DEFAULT_URL)
    args = parser.parse_args()
    name = args.pg_url.rsplit("/", 1)[1]
    _pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}"')
    _pg_admin(args.pg_url, f'CREATE DATABASE "{name}"')
    try:
        _django(args.pg_url)
        district = setup_world(args.outlets)
        rows, seconds, cpu = load(args.days)
        print(f"bulk load: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s; "
              f"{cpu:.1f} CPU s in Python generating and sending them), COPY with indexes "
              "in place, then ANALYZE", flush=True)  # fmt: skip
        result = time_dashboard(district)
        print(f"district dashboard figures for one day: cold {result['cold']:.3f} s, "
              f"warm {result['warm']:.3f} s (median of 5); outlets reported: "
              f"{result['reported']:,}", flush=True)  # fmt: skip
        print(f"rest of the page (30-day trend of one item, first 50 outlets by status): "
              f"{result['rest']:.3f} s", flush=True)  # fmt: skip
        from django.db import connections

        connections.close_all()
    finally:
        _pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
