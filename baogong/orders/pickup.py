"""Pickup codes: short, random, readable aloud, not guessable from room or order number."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: the pairs people misread on a crumpled label.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 6


def new_pickup_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
