"""Consolidate a round of 20,000 households on PostgreSQL and make its supplier sheet and labels.

    .venv/bin/python bench/labels.py [--households 20000] [--keep-db] [--reuse-db] [--all]

1. creates the PostgreSQL database `baogong_labelbench` (postgres@127.0.0.1:5432,
   override with --pg-url), migrates it and generates a district with
   `manage.py make_city --households N --seed 1`;
2. opens one round over every compound and fills it in bulk: one order per household,
   one to three packages each, pickup codes drawn as the service draws them; then closes
   the round (stock counters and round counts match the orders);
3. in a fresh process (so peak memory is the document step's own), times each step:
   consolidation (totals per package, compound and building, pick list), the supplier
   sheet as Excel, and all bag labels on A4 sheets (`--all` adds the thermal labels,
   the PDF sheet and the box manifests), each written to a temporary file as the task
   worker writes it; prints seconds per step, labels/s and peak memory (ru_maxrss);
4. drops the database (--keep-db keeps it; --reuse-db starts from a kept one).

Goals: ≥ 1,000 labels/s, consolidation + sheet + labels under 45 s, memory under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "baogong_labelbench"
GOALS = {"labels_per_s": 1000, "whole_s": 45, "peak_mb": 1024}
SUPPLIER = "标签压测超市"


def child_fill() -> None:
    """An open round over every compound with one order per household, then closed."""
    import datetime as dt
    from decimal import Decimal

    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from baogong.areas.models import Area, Household
    from baogong.orders import services
    from baogong.orders.models import Offer, Order, OrderLine
    from baogong.orders.pickup import new_pickup_code
    from baogong.supply.models import Package, PackageLine, Supplier

    households = list(Household.objects.order_by("pk").values_list("pk", "compound_id"))
    supplier, _ = Supplier.objects.get_or_create(name=SUPPLIER, kind=Supplier.Kind.SUPERMARKET)
    specs = []
    for position, (name, price, item) in enumerate(
        [
            ("米面粮油套餐", "88.00", "大米"),
            ("蔬菜套餐", "39.90", "白菜"),
            ("鲜鸡蛋", "25.80", "鸡蛋"),
        ]
    ):
        package, _ = Package.objects.get_or_create(
            supplier=supplier,
            name=name,
            defaults={"price": Decimal(price), "default_stock_cap": len(households) * 2,
                      "per_household_limit": 2},
        )  # fmt: skip
        PackageLine.objects.get_or_create(package=package, item=item, defaults={"unit": "份"})
        specs.append(services.OfferSpec(package, "ABC"[position]))
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="标签压测 第1期",
        areas=list(Area.objects.filter(kind=Area.Kind.COMPOUND)),
        opens_at=now - dt.timedelta(hours=2),
        cutoff_at=now + dt.timedelta(days=1),
        offers=specs,
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    offers = list(Offer.objects.filter(round=round_).order_by("position"))
    rng = random.Random(1)
    codes: set[str] = set()
    orders, baskets = [], []
    for n, (household_id, compound_id) in enumerate(households):
        code = new_pickup_code()
        while code in codes:
            code = new_pickup_code()
        codes.add(code)
        basket = {o.pk: (o, rng.randint(1, 2)) for o in rng.sample(offers, rng.randint(1, 3))}
        amount = sum((o.price * q for o, q in basket.values()), Decimal("0.00"))
        payment = rng.choice(list(Order.PaymentState.values))
        orders.append(
            Order(round=round_, household_id=household_id, compound_id=compound_id,
                  channel=Order.Channel.SELF, amount_due=amount, payment_state=payment,
                  pickup_code=code, placed_at=now - dt.timedelta(seconds=n))
        )  # fmt: skip
        baskets.append(basket)
    with transaction.atomic():
        Order.objects.bulk_create(orders, batch_size=5000)
        OrderLine.objects.bulk_create(
            (OrderLine(order=order, offer=o, quantity=q, unit_price=o.price)
             for order, basket in zip(orders, baskets, strict=True)
             for o, q in basket.values()),
            batch_size=5000,
        )  # fmt: skip
        for offer in offers:
            offer.sold = sum(b[offer.pk][1] for b in baskets if offer.pk in b)
        Offer.objects.bulk_update(offers, ["sold"])
    services.round_transition(round_=round_, action="close", by=None, reason="bench")
    print(json.dumps({"round_id": round_.pk, "orders": len(orders)}))


def child_measure(round_id: str, every: str) -> None:
    """Time each document step for the round; print the figures as JSON."""
    import django

    django.setup()
    from baogong.fulfilment import documents, queries
    from baogong.orders.models import Round

    round_ = Round.objects.select_related("supplier").get(pk=int(round_id))
    figures: dict[str, float | int] = {}

    def step(name: str, work) -> object:
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{name}_cpu"] = round(time.process_time() - cpu, 2)
        return result

    def consolidate() -> int:
        offers = queries.offer_totals(round_)
        queries.compound_totals(round_)
        queries.building_totals(round_)
        queries.pick_list(round_, offers)
        return sum(o.supplied for o in offers)

    def build(kind: str):
        def work() -> int:
            with tempfile.TemporaryFile() as out:
                count = documents.BUILDERS[kind](out, round_, lambda done: None)
                figures[f"{kind}_mb"] = round(out.tell() / 1e6, 1)
                return count

        return work

    figures["units"] = step("consolidate", consolidate)
    figures["sheet_rows"] = step("sheet_xlsx", build("sheet_xlsx"))
    figures["labels"] = step("labels_a4", build("labels_a4"))
    if every == "all":
        for kind in ("labels_thermal", "sheet_pdf", "manifests", "pick_list"):
            step(kind, build(kind))
    figures["labels_per_s"] = round(figures["labels"] / figures["labels_a4_s"])
    figures["labels_per_cpu_s"] = round(figures["labels"] / figures["labels_a4_cpu"])
    figures["load_average"] = round(os.getloadavg()[0], 1)
    figures["whole_s"] = round(
        figures["consolidate_s"] + figures["sheet_xlsx_s"] + figures["labels_a4_s"], 2
    )
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


def run(command: list[str], *, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command[:4])} …\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def child(step: str, *args: str, env: dict[str, str], timeout: float = 900) -> dict:
    out = run([sys.executable, __file__, step, *args], env=env, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rsplit('/', 1)[0]}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--pg-url", default=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse-db", action="store_true", help="use a database kept before")
    parser.add_argument("--all", action="store_true", help="also time the other documents")
    options = parser.parse_args()
    if not options.pg_url.startswith("postgres://postgres@127.0.0.1:"):
        sys.exit("--pg-url must point at PostgreSQL on 127.0.0.1 (loopback only)")
    env = {
        **os.environ,
        "DATABASE_URL": options.pg_url,
        "DJANGO_SETTINGS_MODULE": "baogong.settings",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="labels_bench_"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    db_name = options.pg_url.rsplit("/", 1)[1]
    started = time.monotonic()
    if not options.reuse_db:
        pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        pg_admin(options.pg_url, f'CREATE DATABASE "{db_name}"')
    try:
        print("migrating …", flush=True)
        run([*manage, "migrate", "-v0"], env=env, timeout=300)
        if not options.reuse_db:
            print(f"make_city --households {options.households} --seed 1 …", flush=True)
            city = [*manage, "make_city", "--households", str(options.households), "--seed", "1"]
            run([*city, "--no-history"], env=env, timeout=600)
        fill = child("_fill", env=env)
        print(f"round {fill['round_id']}: {fill['orders']:,} orders, closed; set up in "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        figures = child("_measure", str(fill["round_id"]), "all" if options.all else "",
                        env=env)  # fmt: skip
    finally:
        if not options.keep_db:
            pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    report(figures)


def report(figures: dict) -> None:
    steps = [k[:-4] for k in figures if k.endswith("_cpu")]
    for name in steps:
        size = f"  ({figures[name + '_mb']} MB)" if name + "_mb" in figures else ""
        cpu = figures[name + "_cpu"]
        print(f"{name:>15}: {figures[name + '_s']:7.2f} s  (Python CPU {cpu:.2f} s){size}")
    print(f"{'labels':>15}: {figures['labels']:,} at {figures['labels_per_s']:,}/s "
          f"(goal ≥ {GOALS['labels_per_s']:,}/s); {figures['labels_per_cpu_s']:,} per CPU "
          f"second; load average {figures['load_average']}")  # fmt: skip
    print(f"{'whole step':>15}: {figures['whole_s']:.1f} s (goal < {GOALS['whole_s']} s)")
    print(f"{'peak memory':>15}: {figures['peak_mb']} MB (goal < {GOALS['peak_mb']} MB)")
    ok = all(
        (figures["labels_per_s"] >= GOALS["labels_per_s"], figures["whole_s"] < GOALS["whole_s"],
         figures["peak_mb"] < GOALS["peak_mb"])
    )  # fmt: skip
    print("goals met" if ok else "GOALS MISSED")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_fill":
        child_fill()
    elif len(sys.argv) > 1 and sys.argv[1] == "_measure":
        child_measure(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        main()
