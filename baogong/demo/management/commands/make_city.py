"""manage.py make_city: generate a synthetic district of any size, deterministically."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from baogong.core.errors import DomainError
from baogong.demo.citygen import generate_city
from baogong.demo.services import city_write


class Command(BaseCommand):
    help = (
        "Generate a synthetic district (streets → communities → compounds → buildings → "
        "households, one resident each). The same --households and --seed always give "
        "the same names, rooms and phones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households", type=int, required=True, help="exact number of households to create"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--name", help="district name (default 合成区-<households>-<seed>)")
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="skip the audit-history rows (for throwaway benchmark data)",
        )

    def handle(
        self,
        *args: Any,
        households: int,
        seed: int,
        name: str | None,
        no_history: bool,
        **options: Any,
    ) -> None:
        if households < 1:
            raise CommandError("--households must be at least 1.")
        started = time.perf_counter()
        city = generate_city(households, seed=seed, name=name)
        generated = time.perf_counter()
        try:
            district = city_write(city, by=None, reason="make_city", history=not no_history)
        except DomainError as error:
            raise CommandError(f"{error} Pick another --name.") from error
        written = time.perf_counter()

        counts = city.counts()
        self.stdout.write(
            self.style.SUCCESS(f"Built district {district.name} (id {district.pk}, seed {seed}).")
        )
        for what, count in counts.items():
            self.stdout.write(f"  {what:<12} {count:>9,}")
        rate = counts["households"] / (written - generated) if written > generated else 0
        self.stdout.write(
            f"Generated in {generated - started:.1f} s, written in {written - generated:.1f} s "
            f"({rate:,.0f} households/s), total {written - started:.1f} s."
        )
