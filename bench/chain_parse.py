"""Benchmark the order-chain (接龙) parser, and matching a chain against 10,000 households.

    .venv/bin/python bench/chain_parse.py [--lines 10000] [--runs 5] [--commit 1000]
                                          [--no-db] [--keep-file chain.txt]

1. Generates a deterministic chain (fixed seed) of `--lines` lines written the way
   people write them: a header, numbered entries in four numbering styles, five
   address forms (3号楼2单元502, 3-2-502, 3栋2单元502室, 三号楼二单元502, 3幢2单元502),
   quantities in digits and Chinese numerals (×2, x1, *2, 2份, 两份, 一箱, 各一份),
   options by letter, number and name (A套餐, 套餐1, 1号, 米面油), phones with spaces,
   names, emoji, and one line in ten of noise (+1, 谢谢, questions, blank lines); one
   household in fifty writes a second line, and one order in forty names a package
   the round does not offer.
2. Parsing: times `ChainParser.parse` over the whole text (`--runs` times; best and
   median; wall clock and process CPU time). No database.
3. Matching (unless --no-db): a fresh SQLite database in a temporary directory
   (migrated, then one compound of 50 buildings × 2 entrances × 100 flats = 10,000
   households, bulk-inserted), a round with three offers; times
   `intake.intake_preview` (the households, phones and orders loaded in a few queries,
   every line matched) for the system and for the compound's liaison, then commits
   `--commit` rows through `order_place` (one transaction each) and times that.
   SQLite in a temporary file: the matching is a handful of queries and Python
   dictionaries, so PostgreSQL changes little here; commits are one transaction per row.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20220415
BUILDINGS = 50
UNITS = 2
FLATS_PER_UNIT = 100  # 25 floors × 4 doors
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = [
    "阿姨",
    "叔叔",
    "奶奶",
    "爷爷",
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
]
NUMERALS = "零一二三四五六七八九"
NOISE = ["+1", "谢谢团长🙏🙏", "B套餐还有吗？", "收到", "已付 谢谢", "", "[强][强]", "几点截单呀"]
ORDERS = [
    "A套餐×2",
    "两份B",
    "套餐1 x1 B*2",
    "一箱A",
    "A、B各一份",
    "米面油2份",
    "A x1 C套餐 ×1",  # C: one order in forty names a package the round does not offer
    "B 1份",
    "1号 2号",
    "三个蔬菜",
]


def _chinese(n: int) -> str:
    if n < 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens]) + "十" + (NUMERALS[ones] if ones else "")


def _room(index: int) -> str:
    floor, door = divmod(index, 4)
    return f"{floor + 1}{door + 1:02d}"


def _address(rng: random.Random, building: int, unit: int, room: str) -> str:
    form = rng.randrange(5)
    if form == 0:
        return f"{building}号楼{unit}单元{room}"
    if form == 1:
        return f"{building}-{unit}-{room}"
    if form == 2:
        return f"{building}栋{unit}单元{room}室"
    if form == 3:
        return f"{_chinese(building)}号楼{_chinese(unit)}单元{room}"
    return f"{building}幢{unit}单元{room}"


def generate(lines: int) -> str:
    """A chain of `lines` lines; the same text every time."""
    rng = random.Random(SEED)
    out = ["#接龙", "长虹小区第3期保供团购 A套餐米面油 88元 B套餐蔬菜 39.9元 C套餐肉蛋 69元", ""]
    flats = list(range(BUILDINGS * UNITS * FLATS_PER_UNIT))
    rng.shuffle(flats)
    entry = 0
    while len(out) < lines:
        if rng.random() < 0.1:
            out.append(rng.choice(NOISE))
            continue
        entry += 1
        # Most households write once; one in fifty writes again further down (a change).
        again = rng.random() < 0.02 and entry > 1
        flat = flats[rng.randrange(entry - 1) if again else (entry - 1) % len(flats)]
        building, rest = divmod(flat, UNITS * FLATS_PER_UNIT)
        unit, index = divmod(rest, FLATS_PER_UNIT)
        number = rng.choice([f"{entry}. ", f"{entry}、", f"{entry}) ", f"({entry}) "])
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = ""
        if rng.random() < 0.3:
            digits = f"139{rng.randrange(10**8):08d}"
            phone = (
                f" {digits[:3]} {digits[3:7]} {digits[7:]}" if rng.random() < 0.5 else f" {digits}"
            )
        order = rng.choice(ORDERS) if rng.random() < 0.25 else rng.choice(ORDERS[:6])
        address = _address(rng, building + 1, unit + 1, _room(index))
        tail = rng.choice(["", "", " 谢谢", " 🙏", " 已付"])
        out.append(f"{number}{address} {name}{phone} {order}{tail}")
    return "\n".join(out[:lines])


def bench_parse(text: str, runs: int) -> None:
    from baogong.orders.chain import ChainParser, OfferRef

    parser = ChainParser(
        [
            OfferRef("A", "米面粮油套餐", ("米面油",)),
            OfferRef("B", "蔬菜套餐", ("蔬菜",)),
        ]
    )
    count = text.count("\n") + 1
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        parsed = parser.parse(text)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    orders = sum(1 for line in parsed if not line.ignored)
    print(
        f"parse     lines={count} (order lines {orders}, ignored {len(parsed) - orders}, "
        f"blank {count - len(parsed)})"
    )
    for label, values in (("wall", walls), ("cpu", cpus)):
        best, median = min(values), statistics.median(values)
        print(
            f"parse     {label:4}  best {best:.3f} s ({count / best:,.0f} lines/s)   "
            f"median {median:.3f} s ({count / median:,.0f} lines/s)"
        )


def _django(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baogong.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use")
    import django

    django.setup()


def _city():
    """One compound of 10,000 households, a liaison, an open round with offers A, B, C."""
    import datetime as dt
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from baogong.accounts.models import Role, RoleGrant, User
    from baogong.areas.models import Area, Household
    from baogong.areas.services import area_create
    from baogong.orders import services
    from baogong.supply.models import Package, Supplier

    call_command("migrate", verbosity=0)
    district = area_create(parent=None, kind=Area.Kind.DISTRICT, name="基准区", by=None)
    street = area_create(parent=district, kind=Area.Kind.STREET, name="基准街道", by=None)
    community = area_create(parent=street, kind=Area.Kind.COMMUNITY, name="幸福社区", by=None)
    compound = area_create(parent=community, kind=Area.Kind.COMPOUND, name="长虹小区", by=None)
    households = []
    for number in range(1, BUILDINGS + 1):
        building = area_create(
            parent=compound, kind=Area.Kind.BUILDING, name=f"{number}号楼", by=None
        )
        for unit in range(1, UNITS + 1):
            for index in range(FLATS_PER_UNIT):
                households.append(
                    Household(
                        building=building,
                        compound=compound,
                        unit=str(unit),
                        room=_room(index),
                        phone=f"170{len(households):08d}",
                    )
                )
    Household.objects.bulk_create(households, batch_size=2000)
    liaison = User.objects.create_user("13000000001", "bench-pass-123", name="联络员")
    RoleGrant.objects.create(user=liaison, role=Role.LIAISON, area=compound)
    supplier = Supplier.objects.create(name="基准超市", kind=Supplier.Kind.SUPERMARKET)
    specs = [
        services.OfferSpec(
            Package.objects.create(
                supplier=supplier,
                name=name,
                price=Decimal(price),
                per_household_limit=3,
                default_stock_cap=100_000,
                aliases=aliases,
            ),
            code,
        )
        for code, name, price, aliases in (
            ("A", "米面粮油套餐", "88.00", "米面油"),
            ("B", "蔬菜套餐", "39.90", "蔬菜"),
        )
    ]
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="第3期",
        areas=[compound],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=2),
        offers=specs,
        by=None,
    )
    compound.cadence_days = 0
    compound.save()
    return services.round_transition(round_=round_, action="open", by=None), liaison


def bench_match(text: str, runs: int, commit: int) -> None:
    from baogong.orders import intake
    from baogong.orders.models import Order

    started = time.perf_counter()
    round_, liaison = _city()
    print(f"setup     10,000 households, migrated SQLite in {time.perf_counter() - started:.1f} s")
    lines = intake.chain_lines(round_, text)
    for who, user in (("system", None), ("liaison", liaison)):
        walls, cpus = [], []
        for _ in range(runs):
            user = type(user).objects.get(pk=user.pk) if user is not None else None  # no cache
            wall, cpu = time.perf_counter(), time.process_time()
            preview = intake.intake_preview(round_, lines, by=user)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        best = min(walls)
        print(
            f"match     {who:7} wall best {best:.3f} s ({len(lines) / best:,.0f} lines/s), "
            f"median {statistics.median(walls):.3f} s; cpu best {min(cpus):.3f} s   "
            f"{dict(sorted(preview.counts.items()))}"
        )
    if commit:
        keep = {row.number for row in preview.rows if row.keepable}
        keep = set(sorted(keep)[:commit])
        wall, cpu = time.perf_counter(), time.process_time()
        report = intake.intake_commit(preview, keep=keep, channel="chain", by=liaison)
        seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
        placed = report.counts["created"] + report.counts["updated"]
        print(
            f"commit    {placed} orders in {seconds:.2f} s wall, {cpu:.2f} s cpu "
            f"({placed / seconds:,.0f} orders/s, one transaction each)   "
            f"{dict(sorted(report.counts.items()))}"
        )
        again = intake.intake_preview(round_, lines, by=liaison)
        wall = time.perf_counter()
        report = intake.intake_commit(again, keep=keep, channel="chain", by=liaison)
        print(
            f"recommit  same rows again in {time.perf_counter() - wall:.2f} s: "
            f"{dict(sorted(report.counts.items()))}; orders in round: "
            f"{Order.objects.filter(round=round_).count()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commit", type=int, default=1000, help="rows to commit (0: none)")
    parser.add_argument("--no-db", action="store_true", help="parse only")
    parser.add_argument("--keep-file", help="also write the generated chain here")
    args = parser.parse_args()
    text = generate(args.lines)
    if args.keep_file:
        Path(args.keep_file).write_text(text, encoding="utf-8")
    bench_parse(text, args.runs)
    if args.no_db:
        return
    with tempfile.TemporaryDirectory(prefix="baogong-bench-") as tmp:
        _django(Path(tmp) / "bench.sqlite3")
        bench_match(text, args.runs, args.commit)


if __name__ == "__main__":
    main()
