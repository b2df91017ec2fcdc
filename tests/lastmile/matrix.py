"""Last-mile pages in the permission matrix: each part keeps its rows in its own module."""

from __future__ import annotations

import importlib

PARTS = [
    importlib.import_module(f"tests.lastmile.matrix_{part}")
    for part in ("receipt", "slots", "doors", "volunteers")
]


def build(side) -> dict:
    extra: dict = {}
    for part in PARTS:
        extra.update(part.build(side))
    return extra


TARGETS: dict = {k: v for part in PARTS for k, v in getattr(part, "TARGETS", {}).items()}
API_TARGETS: dict = {k: v for part in PARTS for k, v in getattr(part, "API_TARGETS", {}).items()}
NOT_OBJECT_SCOPED: set = {n for part in PARTS for n in getattr(part, "NOT_OBJECT_SCOPED", ())}
API_UNSCOPED: set = {n for part in PARTS for n in getattr(part, "API_UNSCOPED", ())}
