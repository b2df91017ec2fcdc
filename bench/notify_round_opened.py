"""Time the round_opened announcement and the SMS worker for a round of 20,000 households.

    .venv/bin/python bench/notify_round_opened.py [--households 20000] [--keep-db]

1. creates the PostgreSQL database `baogong_notifybench` (postgres@127.0.0.1:5432),
   migrates it and generates a district with `manage.py make_city --seed 1`;
2. opens one round over every compound and runs `announce_round` as the task worker
   would (outbox rows for every household: SMS, in-app, call list), printing seconds,
   rows/s and peak memory;
3. runs `deliver_outbox` with the console backend (log at WARNING, so nothing is
   printed) and prints SMS claimed and marked sent per second: the outbox's own cost,
   without a gateway's latency;
4. runs the announcement again: the dedupe check must write nothing.
Then drops the database (--keep-db keeps it). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "baogong_notifybench"


def child_run() -> None:
    import datetime as dt
    import logging

    import django

    django.setup()
    from django.utils import timezone

    from baogong.areas.models import Area
    from baogong.notify import tasks
    from baogong.notify.events import announce_round_opened
    from baogong.notify.models import Message
    from baogong.orders import services
    from baogong.supply.models import Package, Supplier

    logging.getLogger("baogong.notify").setLevel(logging.WARNING)
    supplier = Supplier.objects.create(name="压测超市", kind=Supplier.Kind.SUPERMARKET)
    package = Package.objects.create(supplier=supplier, name="蔬菜套餐", price="39.90")
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="压测 第1期",
        areas=list(Area.objects.filter(kind=Area.Kind.COMPOUND)),
        opens_at=now - dt.timedelta(minutes=5),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(package, "A")],
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    started = time.perf_counter()
    written = announce_round_opened(round_.pk)
    announce_s = time.perf_counter() - started
    sms = Message.objects.filter(channel=Message.Channel.SMS).count()
    calls = Message.objects.filter(channel=Message.Channel.CALL).count()
    started = time.perf_counter()
    counts = tasks.deliver_outbox.call()
    deliver_s = time.perf_counter() - started
    started = time.perf_counter()
    again = announce_round_opened(round_.pk)
    again_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": written,
                "sms": sms,
                "calls": calls,
                "announce_s": round(announce_s, 2),
                "rows_per_s": round(written / announce_s),
                "sent": counts["sent"],
                "deliver_s": round(deliver_s, 2),
                "sms_per_s": round(counts["sent"] / deliver_s) if deliver_s else 0,
                "rerun_rows": again,
                "rerun_s": round(again_s, 2),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        )
    )


def pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rsplit('/', 1)[0]}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def run(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command[:4])} …\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--pg-url", default=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    parser.add_argument("--keep-db", action="store_true")
    options = parser.parse_args()
    if not options.pg_url.startswith("postgres://postgres@127.0.0.1:"):
        sys.exit("--pg-url must point at PostgreSQL on 127.0.0.1 (loopback only)")
    env = {
        **os.environ,
        "DATABASE_URL": options.pg_url,
        "DJANGO_SETTINGS_MODULE": "baogong.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    db_name = options.pg_url.rsplit("/", 1)[1]
    manage = [sys.executable, str(ROOT / "manage.py")]
    pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    pg_admin(options.pg_url, f'CREATE DATABASE "{db_name}"')
    try:
        print("migrating, generating the district …", flush=True)
        run([*manage, "migrate", "-v0"], env, 300)
        city = [*manage, "make_city", "--households", str(options.households), "--seed", "1"]
        run([*city, "--no-history"], env, 900)
        figures = json.loads(run([sys.executable, __file__, "_run"], env, 900).splitlines()[-1])
        print(
            f"round_opened: {figures['rows']} outbox rows ({figures['sms']} SMS, "
            f"{figures['calls']} call list) in {figures['announce_s']} s = "
            f"{figures['rows_per_s']} rows/s, peak {figures['peak_mb']} MB\n"
            f"worker (console gateway): {figures['sent']} SMS in {figures['deliver_s']} s = "
            f"{figures['sms_per_s']} SMS/s\n"
            f"rerun: {figures['rerun_rows']} rows written in {figures['rerun_s']} s"
        )
    finally:
        if not options.keep_db:
            pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    if sys.argv[1:2] == ["_run"]:
        child_run()
    else:
        main()
