"""Load-test order placement through the platform API: gunicorn + PostgreSQL + wrk, on loopback.

    .venv/bin/python bench/order_load.py [--duration 20] [--connections 50] [--workers 4]

One command does everything, in about two minutes, and cleans up after itself:

1. creates the PostgreSQL database `baogong_loadbench` (postgres@127.0.0.1:5432,
   override with --pg-url), migrates it and generates a district of 20,000
   households with `manage.py make_city --households 20000 --seed 1`;
2. adds a supplier with six packages, opens one round over every compound with
   stock for everyone, and makes an API token with `manage.py create_api_client`;
3. places --in-process orders (default 500) through Django's test client, without
   HTTP or wrk, and prints the CPU per order of Django and of PostgreSQL: the
   figure that other work on a shared machine changes least (--in-process-only
   stops there: no gunicorn, no wrk, for a machine others are using);
   then starts gunicorn on 127.0.0.1 (DEBUG=0, persistent database connections,
   four workers; gunicorn turns its sync worker into gthread when --threads,
   default 4, is above 1: threads keep wrk's connections alive, but share a GIL;
   each worker holds at most its share of the connections, --worker-connections);
4. drives it with wrk (bench/wrk/load.lua), --connections at once for --duration
   seconds each: first GET /api/ping (a trivial JSON endpoint of the same server),
   then, after a 3 s warm-up of orders and an ANALYZE of the order tables (a live
   database has statistics), POST /api/rounds/{id}/orders, a different household for
   every request, each with its own Idempotency-Key, one or two of the six packages
   per order;
5. prints orders/s, p50/p95/p99 latency, errors (any non-2xx or socket error) and the
   ratio orders/s ÷ ping/s, checks in the database that every 201 is one order and
   that the stock counters equal the lines sold, then stops gunicorn and drops the
   database (--keep-db keeps it; --reuse-db starts from a kept one, orders emptied).

The load generator runs on the same two cores as the server and the database, as
the goal says, so anything else running at the time lowers the figures: the script
prints the load average before each run.

Tools: wrk from Debian (`apt-get install -y wrk`; the script runs that itself when
it is root and wrk is missing). --profile DIR records the workers with py-spy
during the orders run (`pip install -e '.[bench]'` installs py-spy). Only
127.0.0.1 is ever contacted, and every step has a time limit.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk" / "load.lua"
DB_NAME = "baogong_loadbench"
GOALS = {"orders_per_s": 400, "p95_ms": 250, "ratio": 0.12}
SUPPLIER = "压测超市"
PACKAGES = [
    # name, category, price, per-household limit, contents (item, specification, qty, unit)
    (
        "米面粮油套餐",
        "grain_oil",
        "88.00",
        2,
        [("大米", "5kg", 1, "袋"), ("菜籽油", "5L", 1, "桶")],
    ),
    ("时令蔬菜套餐", "vegetables", "39.90", 2, [("白菜", "", 2, "颗"), ("土豆", "", 2, "斤")]),
    ("肉蛋套餐", "meat_eggs", "69.00", 2, [("猪肉", "", 2, "斤"), ("鸡蛋", "30枚", 1, "盒")]),
    ("水果套餐", "mixed", "45.00", 2, [("苹果", "", 3, "斤"), ("香蕉", "", 2, "斤")]),
    ("日用品套餐", "daily_goods", "59.00", 1, [("卫生纸", "10卷", 1, "提")]),
    ("婴儿奶粉", "infant", "228.00", 1, [("婴儿奶粉", "900g", 1, "罐")]),
]
SETTINGS_SHOWN = ("households", "duration", "connections", "wrk_threads", "workers")
SETTINGS_SHOWN += ("worker_class", "threads", "worker_connections", "gunicorn_arg")
WARMUP_SHARE = 0.1  # households kept aside for the warm-up run


# --- child steps (run with Django set up against the bench database) -------------------


def child_setup(bodies_path: str, warmup_path: str, reset: str) -> None:
    """Supplier, packages, an open round over every compound, and one order body per household."""
    import datetime as dt
    from decimal import Decimal

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from baogong.areas.addresses import building_key
    from baogong.areas.models import Area, Household
    from baogong.orders import services
    from baogong.supply.models import Package, PackageLine, Supplier

    if reset == "reset":  # a kept database: forget the previous run's orders and round
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE orders_idempotencykey, orders_apiclient, orders_orderline, "
                "orders_historicalorder, orders_order, orders_offer, orders_roundarea, "
                "orders_historicalround, orders_round CASCADE"
            )
        Supplier.objects.filter(name=SUPPLIER).delete()
    households = list(
        Household.objects.order_by("pk").values_list(
            "compound_id", "building__name", "unit", "room"
        )
    )
    supplier = Supplier.objects.create(
        name=SUPPLIER, kind=Supplier.Kind.SUPERMARKET, daily_capacity=len(households)
    )
    specs = []
    for position, (name, category, price, limit, contents) in enumerate(PACKAGES):
        package = Package.objects.create(
            supplier=supplier,
            name=name,
            category=category,
            price=Decimal(price),
            per_household_limit=limit,
            default_stock_cap=len(households) * limit,
        )
        PackageLine.objects.bulk_create(
            PackageLine(package=package, item=item, specification=spec, quantity=qty, unit=unit)
            for item, spec, qty, unit in contents
        )
        specs.append(services.OfferSpec(package, chr(ord("A") + position)))
    now = timezone.now()
    compounds = list(Area.objects.filter(kind=Area.Kind.COMPOUND).order_by("pk"))
    round_ = services.round_create(
        supplier=supplier,
        title="压测 第1期",
        areas=compounds,
        opens_at=now - dt.timedelta(minutes=5),
        cutoff_at=now + dt.timedelta(days=1),
        offers=specs,
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    if connection.vendor == "postgresql":
        # Fresh tables have no statistics yet (autovacuum would add them within a
        # minute): without them PostgreSQL plans the round's queries on guesses.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    rng = random.Random(1)
    rng.shuffle(households)
    codes = [spec.code for spec in specs]
    bodies = []
    for n, (compound_id, building, unit, room) in enumerate(households):
        picked = rng.sample(codes, rng.randint(1, 2))
        body = {
            "compound_id": compound_id,
            "address": {"building": building_key(building), "unit": unit, "room": room},
            "lines": [{"offer_code": code, "quantity": 1} for code in picked],
            "external_ref": f"LOAD-{n:06d}",
        }
        bodies.append(json.dumps(body, ensure_ascii=False))
    warmup = int(len(bodies) * WARMUP_SHARE)
    Path(warmup_path).write_text("\n".join(bodies[:warmup]) + "\n", encoding="utf-8")
    Path(bodies_path).write_text("\n".join(bodies[warmup:]) + "\n", encoding="utf-8")
    summary = {
        "round_id": round_.pk,
        "supplier_id": supplier.pk,
        "households": len(households),
        "compounds": len(compounds),
    }
    print(json.dumps(summary))


def child_verify(round_id: str) -> None:
    """What the database says after the run: orders, keys, and stock against lines sold."""
    import django

    django.setup()
    from django.db.models import Count, Sum

    from baogong.orders.models import IdempotencyKey, Offer, Order, OrderLine

    orders = Order.objects.filter(round_id=round_id)
    live_lines = OrderLine.objects.filter(order__round_id=round_id, order__state=Order.State.PLACED)
    lines = dict(live_lines.values_list("offer_id").annotate(Sum("quantity")))
    sold = dict(Offer.objects.filter(round_id=round_id).values_list("pk", "sold"))
    doubled = orders.values("household_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    print(
        json.dumps(
            {
                "orders": orders.count(),
                "api_orders": orders.filter(channel=Order.Channel.API).count(),
                "keys": IdempotencyKey.objects.count(),
                "stock_matches_lines": all(sold[pk] == lines.get(pk, 0) for pk in sold),
                "households_with_two_orders": doubled,
            }
        )
    )


def child_in_process(bodies_path: str, token: str, path: str, count: str) -> None:
    """CPU per order and per ping with no HTTP server and no load generator.

    Django's test client posts the last `count` order bodies (wrk starts from the
    first) one after another, as gunicorn's workers would run them, and the CPU
    time of this process and of its database backend is divided by the orders.
    Other work on the machine barely changes these figures, unlike the rates.
    """
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    bodies = Path(bodies_path).read_text(encoding="utf-8").splitlines()[-int(count) :]
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    warm = min(20, len(bodies) // 10)

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return _cpu_seconds(cursor.fetchone()[0])

    def post(n: int, body: str) -> int:
        key = f"in-process-{os.getpid()}-{n}"
        response = client.post(
            path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
        )
        return response.status_code

    errors = sum(post(n, body) != 201 for n, body in enumerate(bodies[:warm]))
    database, own, wall = backend_cpu(), time.process_time(), time.perf_counter()
    errors += sum(post(n, body) != 201 for n, body in enumerate(bodies[warm:], warm))
    database = backend_cpu() - database
    own, wall = time.process_time() - own, time.perf_counter() - wall
    pings = 1000
    ping_cpu = time.process_time()
    for _ in range(pings):
        client.get("/api/ping")
    ping_cpu = time.process_time() - ping_cpu
    orders = len(bodies) - warm
    print(
        json.dumps(
            {
                "orders": orders,
                "created": len(bodies) - errors,
                "errors": errors,
                "server_cpu_ms": round(1000 * own / orders, 2),
                "database_cpu_ms": round(1000 * database / orders, 2),
                "wall_ms": round(1000 * wall / orders, 2),
                "ping_cpu_ms": round(1000 * ping_cpu / pings, 3),
            }
        )
    )


# --- the driver ------------------------------------------------------------------------


def run(command: list[str], *, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command[:4])} …\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def child(step: str, *args: str, env: dict[str, str], timeout: float = 300) -> dict:
    out = run([sys.executable, __file__, step, *args], env=env, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rsplit('/', 1)[0]}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def analyze_orders(pg_url: str) -> None:
    """Statistics for the order tables, which the run emptied.

    A live database has them (autovacuum keeps them), whatever its tables hold; an
    emptied one plans the placement's prepared statements as if the tables stayed
    empty, and a probe that should use a unique index scans every order of the
    round instead, longer with each order placed, until autovacuum catches up.
    """
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "ANALYZE orders_order, orders_orderline, orders_historicalorder, orders_idempotencykey"
        )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", flush=True)
        for command in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"]):
            subprocess.run(command, capture_output=True, timeout=300, check=False)
            if shutil.which("wrk"):
                break
        else:
            subprocess.run(
                ["apt-get", "install", "-y", "wrk"], capture_output=True, timeout=300, check=False
            )
        found = shutil.which("wrk")
    if not found:
        sys.exit("This benchmark needs wrk: apt-get install -y wrk (Debian/Ubuntu).")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {seconds:.0f} s")


def load_note() -> str:
    one, _five, _fifteen = os.getloadavg()
    note = f"load average {one:.1f}"
    if one > 1.5:
        note += " — other processes are busy; figures will be lower than on an idle machine"
    return note


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the gunicorn workers and the bench database's backends.

    On a shared machine the wall clock depends on what else runs; CPU per request
    does much less, and the ratio of two of them predicts the ratio of rates on
    an idle machine when the run is CPU-bound.
    """

    def __init__(self, master_pid: int, pg_url: str) -> None:
        self.master_pid, self.pg_url = master_pid, pg_url

    def _pids(self) -> tuple[list[int], list[int]]:
        import psycopg

        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return workers, [row[0] for row in rows]

    def snapshot(self) -> dict[str, dict[int, float]]:
        workers, backends = self._pids()
        return {
            "server": {pid: _cpu_seconds(pid) for pid in workers},
            "database": {pid: _cpu_seconds(pid) for pid in backends},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {
            part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items())
            for part in after
        }


def wrk(
    binary: str,
    url: str,
    *,
    connections: int,
    threads: int,
    seconds: int,
    script_args: list[str],
    meter: CpuMeter | None = None,
) -> dict:
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(LUA), url, "--", *script_args]
    before = meter.snapshot() if meter else None
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
            seconds_run = result["duration_us"] / 1e6
            result["errors"] = result["non2xx"] + result["socket_errors"] + result["timeouts"]
            result["ok_per_s"] = (result["requests"] - result["non2xx"]) / seconds_run
            cpu = meter.spent(before, meter.snapshot()) if meter else {}
            cpu["load generator"] = (children_after.ru_utime + children_after.ru_stime) - (
                children_before.ru_utime + children_before.ru_stime
            )
            result["cpu_ms_per_request"] = {
                part: round(1000 * spent / max(result["requests"], 1), 2)
                for part, spent in cpu.items()
            }
            return result
    raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")


def describe(label: str, r: dict) -> str:
    cpu = ", ".join(f"{part} {ms:.2f}" for part, ms in r.get("cpu_ms_per_request", {}).items())
    return (
        f"{label:<7} {r['requests']:>7,} requests {r['ok_per_s']:>8,.0f}/s  "
        f"p50 {r['p50_us'] / 1000:6.1f} ms  p95 {r['p95_us'] / 1000:6.1f} ms  "
        f"p99 {r['p99_us'] / 1000:6.1f} ms  errors {r['errors']}\n"
        f"{'':<8}CPU ms per request: {cpu}"
    )


def start_profiler(master_pid: int, seconds: int, out_dir: Path) -> subprocess.Popen | None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("--profile needs py-spy: pip install -e '.[bench]'")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--duration"]
    command += [str(seconds), "--rate", "200", "--nonblocking", "--format", "raw"]
    command += ["-o", str(out_dir / "orders.folded")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(folded: Path, top: int = 25) -> None:
    """Print where the workers spent their samples: own time per function, and per file."""
    if not folded.exists():
        print("no profile was written")
        return
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _space, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if "baogong/" in frame or "django/db/" in frame or "ninja/" in frame:
                inclusive[frame] += int(count)
    print(f"\nprofile: {total:,} samples in {folded}")
    print("own time:")
    for frame, count in own.most_common(top):
        print(f"  {count / total:6.1%}  {frame[:150]}")
    print("inclusive time, project code, django.db and ninja:")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {frame[:150]}")


def stop(server: subprocess.Popen | None) -> None:
    """Stop gunicorn gracefully (it finishes the requests it holds), or kill it."""
    if server is None or server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    # The goal asks for at least 50 concurrent clients; more only lengthens the queue
    # each request waits in (latency = clients ÷ rate), not the rate.
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    # A gthread worker accepts every connection it can, and a kept-alive connection stays
    # with the worker that accepted it: uncapped, two of four workers held all 50 of
    # wrk's connections while the others idled, and p95 was their queue. Capped at its
    # share, each worker takes a quarter (see bench/README.md, "Sixth look").
    parser.add_argument(
        "--worker-connections",
        type=int,
        help="connections one gthread worker holds at most "
        "(default: --connections ÷ --workers, rounded up)",
    )
    parser.add_argument(
        "--gunicorn-arg", action="append", default=[], help="passed to gunicorn (repeatable)"
    )
    parser.add_argument("--pg-url", default=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse-db", action="store_true", help="start from a database kept with --keep-db"
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy the workers during orders")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument(
        "--in-process",
        type=int,
        default=500,
        metavar="N",
        help="first place N orders through Django's test client to measure CPU per order "
        "without HTTP and wrk (0: skip)",
    )
    parser.add_argument(
        "--in-process-only",
        action="store_true",
        help="stop after the in-process step: no gunicorn, no wrk (for a busy machine)",
    )
    options = parser.parse_args()
    if options.in_process_only and not options.in_process:
        sys.exit("--in-process-only needs --in-process N > 0")
    if not options.pg_url.startswith("postgres://postgres@127.0.0.1:"):
        sys.exit("--pg-url must point at PostgreSQL on 127.0.0.1 (loopback only)")
    if not 1 <= options.duration <= 120:
        sys.exit("--duration must be 1–120 s")
    if options.worker_connections is None:
        options.worker_connections = -(-options.connections // options.workers)

    wrk_binary = ensure_wrk()
    env = {
        **os.environ,
        "DATABASE_URL": options.pg_url,
        "DJANGO_SETTINGS_MODULE": "baogong.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.urandom(32).hex(),
        "DB_CONN_MAX_AGE": "600",
    }
    work = Path(tempfile.mkdtemp(prefix="order_load_"))
    bodies, warmup = work / "bodies.jsonl", work / "warmup.jsonl"
    manage = [sys.executable, str(ROOT / "manage.py")]
    started = time.monotonic()
    db_name = options.pg_url.rsplit("/", 1)[1]
    if not options.reuse_db:
        pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        pg_admin(options.pg_url, f'CREATE DATABASE "{db_name}"')
    server = None
    try:
        print("migrating …", flush=True)
        run([*manage, "migrate", "-v0"], env=env, timeout=300)
        if not options.reuse_db:
            print(f"make_city --households {options.households} --seed 1 …", flush=True)
            city = [*manage, "make_city", "--households", str(options.households), "--seed", "1"]
            run([*city, "--no-history"], env=env, timeout=600)
        reset = "reset" if options.reuse_db else "fresh"
        setup = child("_setup", str(bodies), str(warmup), reset, env=env)
        client = [*manage, "create_api_client", str(setup["supplier_id"]), "load test", "--quiet"]
        token = run(client, env=env, timeout=60).strip()
        path = f"/api/rounds/{setup['round_id']}/orders"
        in_process = None
        if options.in_process:
            count = str(options.in_process)
            in_process = child("_in_process", str(bodies), token, path, count, env=env)
            print(
                f"in process: {in_process['orders']} orders, CPU per order "
                f"{in_process['server_cpu_ms']} ms Django + {in_process['database_cpu_ms']} ms "
                f"PostgreSQL, per ping {in_process['ping_cpu_ms']} ms; "
                f"errors {in_process['errors']}; {load_note()}",
                flush=True,
            )
        print(
            f"round {setup['round_id']} over {setup['compounds']} compounds, "
            f"{setup['households']:,} households; set up in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if options.in_process_only:
            if options.json:
                Path(options.json).write_text(json.dumps({"in_process": in_process}, indent=2))
            return

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = [sys.executable, "-m", "gunicorn", "baogong.wsgi", "--bind", f"127.0.0.1:{port}"]
        gunicorn += ["--workers", str(options.workers), "--worker-class", options.worker_class]
        gunicorn += ["--threads", str(options.threads), "--backlog", "2048"]
        gunicorn += ["--worker-connections", str(options.worker_connections)]
        gunicorn += ["--keep-alive", "30", "--log-level", "warning", *options.gunicorn_arg]
        with open(work / "gunicorn.log", "w") as log:
            server = subprocess.Popen(
                gunicorn, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        wait_until_up(f"{base}/api/ping", 60)
        print(
            f"gunicorn: {options.workers} {options.worker_class} workers"
            + (
                f" × {options.threads} threads (gthread), "
                f"at most {options.worker_connections} connections each"
                if options.threads > 1
                else ""
            )
            + f"; wrk: {options.connections} connections, {options.wrk_threads} thread(s), "
            f"{options.duration} s per run",
            flush=True,
        )

        meter = CpuMeter(server.pid, options.pg_url)
        common = {"connections": options.connections, "threads": options.wrk_threads}
        step = str(options.wrk_threads)
        run_id = f"load{int(time.time())}"
        wrk(wrk_binary, base, seconds=3, script_args=["ping"], **common)  # warm-up
        print(load_note(), flush=True)
        ping = wrk(
            wrk_binary, base, seconds=options.duration, script_args=["ping"], meter=meter, **common
        )
        print(describe("ping", ping), flush=True)
        warm_args = ["orders", token, path, str(warmup), run_id + "w", step]
        warm = wrk(wrk_binary, base, seconds=3, script_args=warm_args, **common)
        analyze_orders(options.pg_url)
        print(load_note(), flush=True)
        profiler = None
        if options.profile:
            profiler = start_profiler(server.pid, options.duration, Path(options.profile))
        order_args = ["orders", token, path, str(bodies), run_id, step]
        orders = wrk(
            wrk_binary,
            base,
            seconds=options.duration,
            script_args=order_args,
            meter=meter,
            **common,
        )
        print(describe("orders", orders), flush=True)
        if orders["first_error"]:
            print(f"first error: {orders['first_error']}")
        if orders["wrapped"]:
            print(
                f"note: {orders['wrapped']} requests re-ordered for a household already served "
                "(more requests than households: raise --households or lower --duration)"
            )
        if profiler is not None:
            profiler.wait(timeout=120)
            summarize_profile(Path(options.profile) / "orders.folded")
        # Stopped first, so that requests wrk gave up on have finished when we count.
        stop(server)
        verify = child("_verify", str(setup["round_id"]), env=env)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        log_tail = (work / "gunicorn.log").read_text()[-3000:] if server else ""
        sys.exit(f"{error}\n{log_tail}")
    finally:
        stop(server)
        if not options.keep_db:
            pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)

    created = in_process["created"] if in_process else 0
    report(
        options, ping=ping, warm=warm, orders=orders, verify=verify, started=started, also=created
    )
    if in_process and options.json:
        figures = json.loads(Path(options.json).read_text())
        figures["in_process"] = in_process
        Path(options.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


def report(
    options, *, ping: dict, warm: dict, orders: dict, verify: dict, started: float, also: int
) -> None:
    """Print the figures; `also` counts the orders placed in process before the runs."""
    ratio = orders["ok_per_s"] / ping["ok_per_s"] if ping["ok_per_s"] else 0.0
    cpu_ping = sum(ping["cpu_ms_per_request"].values())
    cpu_order = sum(orders["cpu_ms_per_request"].values())
    # Every 201 is one new order (unless households ran out and orders were edited). A
    # request wrk gave up on, or still in flight when a run stopped (one per connection),
    # may have been placed too, so those widen the range.
    created = warm["created"] + orders["created"] + also
    unknown = sum(r["timeouts"] + r["socket_errors"] for r in (warm, orders))
    unknown += 2 * options.connections
    consistent = (
        verify["stock_matches_lines"]
        and verify["households_with_two_orders"] == 0
        and (
            orders["wrapped"] + warm["wrapped"] > 0
            or created <= verify["api_orders"] <= created + unknown
        )
    )
    figures = {
        "orders_per_s": round(orders["ok_per_s"], 1),
        "p50_ms": orders["p50_us"] / 1000,
        "p95_ms": orders["p95_us"] / 1000,
        "p99_ms": orders["p99_us"] / 1000,
        "errors": orders["errors"],
        "ping_per_s": round(ping["ok_per_s"], 1),
        "ping_p95_ms": ping["p95_us"] / 1000,
        "ping_errors": ping["errors"],
        "ratio": round(ratio, 3),
        "cpu_ms_per_order": orders["cpu_ms_per_request"],
        "cpu_ms_per_ping": ping["cpu_ms_per_request"],
        "cpu_ratio": round(cpu_ping / cpu_order, 3) if cpu_order else 0.0,
        "database": {**verify, "one_order_per_201": consistent},
        "settings": {name: getattr(options, name) for name in SETTINGS_SHOWN},
    }
    goal = GOALS
    met = (
        figures["orders_per_s"] >= goal["orders_per_s"]
        and figures["p95_ms"] < goal["p95_ms"]
        and figures["errors"] == 0
        and ratio >= goal["ratio"]
        and consistent
    )
    print()
    print(f"orders/s             {figures['orders_per_s']:>9,.1f}   goal ≥ {goal['orders_per_s']}")
    print(
        f"latency p50/p95/p99  {figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} / "
        f"{figures['p99_ms']:.1f} ms   goal p95 < {goal['p95_ms']} ms"
    )
    print(f"errors (non-2xx)     {figures['errors']:>9}   goal 0")
    print(f"ping/s               {figures['ping_per_s']:>9,.1f}")
    print(f"ratio orders ÷ ping  {ratio:>9.3f}   goal ≥ {goal['ratio']}")
    print(
        f"CPU per request      ping {cpu_ping:.2f} ms, order {cpu_order:.2f} ms (server, "
        f"database and wrk): CPU ratio {figures['cpu_ratio']:.3f}"
    )
    print(
        f"database             {verify['orders']:,} orders, {verify['keys']:,} idempotency keys; "
        f"stock = lines sold: {verify['stock_matches_lines']}; one order per 201: {consistent}"
    )
    print(f"goals {'met' if met else 'NOT met'}; {time.monotonic() - started:.0f} s in all")
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_setup":
        child_setup(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_in_process":
        child_in_process(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_verify":
        child_verify(*sys.argv[2:])
    else:
        main()
