"""Free distribution pages in the permission matrix."""

from __future__ import annotations


def build(side) -> dict:
    return {}


TARGETS: dict = {}
