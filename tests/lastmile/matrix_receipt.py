"""Rows of the permission matrix for the last mile's receipt pages."""

from __future__ import annotations


def build(side) -> dict:
    return {}


TARGETS: dict = {}
