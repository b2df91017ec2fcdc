"""Plan a free distribution for 50,000 households, make its bags and its labels.

    .venv/bin/python bench/distribution_plan.py [--households 50000] [--only pg|sqlite]
        [--all] [--keep-db] [--reuse-db]

For each database (PostgreSQL `baogong_distbench` on postgres@127.0.0.1:5432, and a
SQLite file in a temporary folder):

1. migrates it and generates a district with `manage.py make_city --households N
   --seed 1 --no-history` (about four street offices for 50,000 households);
2. in a fresh process (so peak memory is the steps' own) creates a government package
   distribution over the whole district, by household size bands (1–2: 1, 3–4: 2, 5+: 3)
   with one extra pack for special-group households, its stock 5 % short so the plan has
   a waiting list; then times each step:
   - plan: `planning.distribution_plan` + the per compound/building summary of the page;
   - commit: `services.distribution_commit` (allocations, a delivery per compound, a bag
     with a fresh pickup code per served household);
   - labels: every bag label on A4 sheets, written to a temporary file as the task worker
     writes it (`--all` adds the pack list, box manifests and thermal labels);
3. prints seconds per step, labels/s against the labels benchmark's goal, peak memory,
   and drops the database (--keep-db keeps PostgreSQL's; --reuse-db starts from it).

Goals: plan < 5 s; labels at the labels issue's rate (≥ 1,000 labels/s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "baogong_distbench"
GOALS = {"plan_s": 5.0, "labels_per_s": 1000}
SHORT = 0.95  # stock as a share of the packs needed


def child_measure(every: str) -> None:
    """Create the distribution, then time plan, commit and documents; print JSON figures."""
    import django

    django.setup()
    from baogong.areas.models import Area
    from baogong.distributions import documents, planning, services
    from baogong.distributions.models import Distribution
    from baogong.distributions.planning import Band

    district = Area.objects.get(kind=Area.Kind.DISTRICT)
    spec = services.DistributionSpec(
        title="压测 第1批政府保供包",
        source=Distribution.Source.RESERVE,
        targets=[district],
        package=services.PackageSpec("保供包", "大米 5kg ×1\n食用油 1.8L ×1", 10**6),
        rule=Distribution.Rule.SIZE_BANDS,
        bands=(Band(1, 2, 1), Band(3, 4, 2), Band(5, None, 3)),
        special_extra_packs=1,
    )
    distribution = services.distribution_create(spec=spec, by=None)
    figures: dict[str, float | int] = {}

    def step(name: str, work) -> object:
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{name}_cpu"] = round(time.process_time() - cpu, 2)
        return result

    # Size the stock from a first look, so the timed plan has a shortfall to state.
    needed = sum(planning.distribution_plan(distribution).packs_needed().values())
    package = distribution.packages.get()
    package.quantity_available = int(needed * SHORT)
    package.save()

    def plan() -> planning.Plan:
        result = planning.distribution_plan(distribution)
        planning.per_compound(result)
        return result

    result = step("plan", plan)
    figures["households"] = len(result.lines) + len(result.unservable)
    figures["served"] = len(result.served)
    figures["waiting"] = len(result.left_out)
    figures["unservable"] = len(result.unservable)
    commit = step(
        "commit", lambda: services.distribution_commit(distribution=distribution, by=None)
    )
    figures["bags"] = commit.bags
    figures["deliveries"] = commit.deliveries
    distribution.refresh_from_db()

    def build(kind: str):
        def work() -> int:
            with tempfile.TemporaryFile() as out:
                count = documents.BUILDERS[kind](out, distribution, lambda done: None)
                figures[f"{kind}_mb"] = round(out.tell() / 1e6, 1)
                return count

        return work

    figures["labels"] = step("labels_a4", build("labels_a4"))
    if every == "all":
        for kind in ("pack_list", "manifests", "labels_thermal"):
            step(kind, build(kind))
    figures["labels_per_s"] = round(figures["labels"] / figures["labels_a4_s"])
    figures["labels_per_cpu_s"] = round(figures["labels"] / max(figures["labels_a4_cpu"], 0.01))
    figures["load_average"] = round(os.getloadavg()[0], 1)
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


def run(command: list[str], *, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command[:4])} …\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rsplit('/', 1)[0]}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def bench(label: str, url: str, options, *, fresh: bool) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "baogong.settings",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="distribution_bench_"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    started = time.monotonic()
    print(f"[{label}] migrating …", flush=True)
    run([*manage, "migrate", "-v0"], env=env, timeout=600)
    if fresh:
        print(f"[{label}] make_city --households {options.households} --seed 1 …", flush=True)
        city = [*manage, "make_city", "--households", str(options.households), "--seed", "1"]
        run([*city, "--no-history"], env=env, timeout=1200)
    print(f"[{label}] set up in {time.monotonic() - started:.0f} s; measuring …", flush=True)
    out = run([sys.executable, __file__, "_measure", "all" if options.all else ""], env=env,
              timeout=1800)  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--only", choices=["pg", "sqlite"])
    parser.add_argument("--pg-url", default=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    parser.add_argument("--keep-db", action="store_true", help="keep PostgreSQL's database")
    parser.add_argument("--reuse-db", action="store_true", help="use a database kept before")
    parser.add_argument("--all", action="store_true", help="also time the other documents")
    options = parser.parse_args()
    if not options.pg_url.startswith("postgres://postgres@127.0.0.1:"):
        sys.exit("--pg-url must point at PostgreSQL on 127.0.0.1 (loopback only)")
    results = {}
    if options.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            results["SQLite"] = bench("SQLite", url, options, fresh=True)
    if options.only in (None, "pg"):
        db_name = options.pg_url.rsplit("/", 1)[1]
        if not options.reuse_db:
            pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            pg_admin(options.pg_url, f'CREATE DATABASE "{db_name}"')
        try:
            results["PostgreSQL"] = bench(
                "PostgreSQL", options.pg_url, options, fresh=not options.reuse_db
            )
        finally:
            if not options.keep_db:
                pg_admin(options.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    for label, figures in results.items():
        report(label, figures)


def report(label: str, figures: dict) -> None:
    print(f"\n{label}: {figures['households']:,} households, {figures['served']:,} served, "
          f"{figures['waiting']:,} on the waiting list, {figures['unservable']:,} to fix; "
          f"{figures['bags']:,} bags in {figures['deliveries']:,} compound deliveries")  # fmt: skip
    for name in [k[:-4] for k in figures if k.endswith("_cpu")]:
        size = f"  ({figures[name + '_mb']} MB)" if name + "_mb" in figures else ""
        cpu = figures[name + "_cpu"]
        print(f"{name:>15}: {figures[name + '_s']:7.2f} s  (Python CPU {cpu:.2f} s){size}")
    print(f"{'labels':>15}: {figures['labels']:,} at {figures['labels_per_s']:,}/s "
          f"(goal ≥ {GOALS['labels_per_s']:,}/s); {figures['labels_per_cpu_s']:,} per CPU "
          f"second; load average {figures['load_average']}")  # fmt: skip
    print(f"{'peak memory':>15}: {figures['peak_mb']} MB")
    ok = figures["plan_s"] < GOALS["plan_s"] and figures["labels_per_s"] >= GOALS["labels_per_s"]
    print("goals met" if ok else "GOALS MISSED")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        child_measure(sys.argv[2] if len(sys.argv) > 2 else "")
    else:
        main()
