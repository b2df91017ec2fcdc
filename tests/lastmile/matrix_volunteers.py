"""Rows of the permission matrix for the last mile's volunteers pages."""

from __future__ import annotations


def build(side) -> dict:
    return {}


TARGETS: dict = {}
