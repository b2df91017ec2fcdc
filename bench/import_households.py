"""Benchmark the household register import: 100,000 rows into PostgreSQL and SQLite.

    .venv/bin/python bench/import_households.py [--rows 100000] [--only pg|sqlite]

Generates a deterministic register (.xlsx, fixed seed: one community, 20
compounds x 50 buildings, Chinese names, fake 170 phones, addresses written in
mixed forms), then for each database: creates a fresh database, migrates it,
imports the file as the community's staff user once (everything created) and
again (everything unchanged).
Each import runs in its own child process, which reports the seconds spent in
`register_import` and its own peak resident memory (getrusage ru_maxrss of the
child, so Django's start-up is included) and the CPU seconds used by the child and
by its PostgreSQL backend process (read from /proc: on a busy machine these say
more than the wall-clock seconds). PostgreSQL needs DATABASE_URL-style
access to postgres@127.0.0.1:5432 (override with --pg-url); the bench database
`baogong_bench` is created and dropped.
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
SEED = 20220401
COMPOUNDS = 20
BUILDINGS = 50
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
            "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强玉兰红梅海燕文"
CONTAINMENT = ["封控区", "管控区", "防范区", "无", "", ""]
NUMERALS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    if n < 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens]) + "十" + (NUMERALS[ones] if ones else "")


def _address(rng: random.Random, building: int, unit: int, room: str) -> str:
    form = rng.randrange(6)
    if form == 0:
        return f"{building}号楼{unit}单元{room}"
    if form == 1:
        return f"{building}栋{unit}单元{room}室"
    if form == 2:
        return f"{building}-{unit}-{room}"
    if form == 3:
        return f"{building}#{unit}-{room}"
    if form == 4:
        return f"{_chinese(building)}号楼{_chinese(unit)}单元{room}"
    return f"{building}幢{unit}单元{room}"


def generate(path: Path, rows: int) -> None:
    """Write a register of `rows` households as .xlsx (openpyxl write-only)."""
    from openpyxl import Workbook

    rng = random.Random(SEED)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("住户登记")
    sheet.append(["幸福社区住户信息登记表（基准测试数据）"])
    sheet.append(["小区", "地址", "户主", "联系电话", "备用电话", "家庭人数", "管控状态", "备注"])
    per_building = -(-rows // (COMPOUNDS * BUILDINGS))
    units = 2 if per_building > 8 else 1
    per_unit = -(-per_building // units)
    written = 0
    for compound in range(1, COMPOUNDS + 1):
        for building in range(1, BUILDINGS + 1):
            for index in range(per_building):
                if written == rows:
                    break
                unit = index // per_unit + 1
                floor, door = divmod(index % per_unit, 2)
                room = f"{floor + 1}{door + 1:02d}"
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
                phone = f"170{(written * 7919 + 13) % 10**8:08d}"
                alt = f"170{(written * 104729 + 7) % 10**8:08d}" if rng.random() < 0.2 else ""
                sheet.append([f"幸福{compound}期", _address(rng, building, unit, room), name,
                              phone, alt, rng.randint(1, 6), rng.choice(CONTAINMENT),
                              "独居老人" if rng.random() < 0.03 else ""])
                written += 1
    workbook.save(path)


# --- child processes ----------------------------------------------------------

def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baogong.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use")
    os.environ.setdefault("IMPORT_MAX_BYTES", str(100 * 1024 * 1024))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_setup(url: str) -> None:
    """Migrate, create district → street → community and its staff user; print their ids."""
    _django(url)
    from django.core.management import call_command

    from baogong.accounts.models import Role, RoleGrant, User
    from baogong.areas.models import Area
    from baogong.areas.services import area_create

    call_command("migrate", verbosity=0)
    district = area_create(parent=None, kind=Area.Kind.DISTRICT, name="基准区", by=None)
    street = area_create(parent=district, kind=Area.Kind.STREET, name="基准街道", by=None)
    community = area_create(parent=street, kind=Area.Kind.COMMUNITY, name="幸福社区", by=None)
    # Imports run as community staff, as from the web page: the history rows then
    # carry a user (one more foreign key checked per history row).
    staff = User.objects.create_user("17099999999", name="基准社区干部")
    RoleGrant.objects.create(user=staff, role=Role.COMMUNITY_STAFF, area=community)
    print(json.dumps({"into": community.pk, "by": staff.pk}))


def child_import(url: str, file: str, into: int, by: int) -> None:
    """Import `file` into area `into` as user `by`; print seconds, counts, CPU and peak memory."""
    _django(url)
    from baogong.accounts.models import User
    from baogong.areas.importer import register_import
    from baogong.areas.models import Area

    data = Path(file).read_bytes()
    area = Area.objects.get(pk=into)
    user = User.objects.get(pk=by)
    server_pid = _server_pid()
    server_before = _cpu_seconds(server_pid)
    cpu_before = time.process_time()
    started = time.perf_counter()
    report = register_import(data, filename=Path(file).name, into=area, by=user)
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    server_cpu = _cpu_seconds(server_pid) - server_before if server_pid else None
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rows": len(report.rows), "seconds": seconds, "client_cpu": client_cpu,
                      "server_cpu": server_cpu, "counts": report.counts,
                      "peak_mb": peak_kb / 1024}))


def _server_pid() -> int | None:
    """The PostgreSQL backend serving this process (same machine), to measure its CPU."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # another machine, or no /proc: report none
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- parent -------------------------------------------------------------------

def _run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child {args[0]} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    admin_url = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement)


def bench(label: str, url: str, file: Path) -> list[dict]:
    target = _run_child("setup", url)
    results = []
    for run in ("first import", "second import (unchanged)"):
        result = _run_child("import", url, str(file), str(target["into"]), str(target["by"]))
        result.update(database=label, run=run)
        results.append(result)
        server = (f" + server {result['server_cpu']:5.2f}" if result["server_cpu"] is not None
                  else "")
        print(f"{label:10} {run:26} rows={result['rows']:>7} "
              f"seconds={result['seconds']:6.2f} rows/s={result['rows'] / result['seconds']:>8.0f} "
              f"peak={result['peak_mb']:5.0f} MB  cpu: client {result['client_cpu']:5.2f}{server}"
              f"  {result['counts']}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["pg", "sqlite"])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench")
    parser.add_argument("--keep-file", help="write the generated register here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baogong-bench-") as tmp:
        file = Path(args.keep_file or Path(tmp) / f"register-{args.rows}.xlsx")
        if not file.exists():
            started = time.perf_counter()
            generate(file, args.rows)
            print(f"generated {file.name}: {args.rows} rows, {file.stat().st_size / 1e6:.1f} MB "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
        if args.only in (None, "pg"):
            name = args.pg_url.rsplit("/", 1)[1]
            _pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}"')
            _pg_admin(args.pg_url, f'CREATE DATABASE "{name}"')
            try:
                bench("PostgreSQL", args.pg_url, file)
            finally:
                _pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}"')
        if args.only in (None, "sqlite"):
            bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", file)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "setup":
        child_setup(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "import":
        child_import(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
