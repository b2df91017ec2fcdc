"""QR code matrices for pickup codes, fast: a version 1-M encoder for short alphanumeric text.

A label run encodes 20,000 codes; segno (pure Python, general) spends ~0.5 ms on each.
Pickup codes are 6 characters of the QR alphanumeric set, which always give a
version 1 symbol (21 × 21) at error level M. For those this module writes the data
and Reed–Solomon codewords straight into a template taken once from segno (finder
and timing patterns, format information for mask 0), so only the 208 data modules
change per code (about 5× faster). Anything else goes to segno with the same settings.
Tests check the matrices equal segno's, except where segno packs digits as a numeric
segment (an all-digit code): both then decode to the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import segno

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {ch: i for i, ch in enumerate(ALPHANUMERIC)}
SIZE = 21  # version 1
DATA_CODEWORDS, EC_CODEWORDS = 16, 10  # version 1, error level M
MAX_CHARS = 20  # alphanumeric capacity of 1-M


def segno_matrix(data: str) -> tuple[bytearray, ...]:
    """The reference: segno with error level M, mask 0, no micro code, no error boost."""
    return segno.make(data, error="m", mask=0, micro=False, boost_error=False).matrix


# --- Reed–Solomon over GF(256), polynomial 0x11D ------------------------------------------

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def _generator(degree: int) -> list[int]:
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        poly = nxt
    return poly


_GEN_LOG = [_LOG[c] for c in _generator(EC_CODEWORDS)[1:]]


def _ec(data: list[int]) -> list[int]:
    rem = [0] * EC_CODEWORDS
    for byte in data:
        factor = byte ^ rem[0]
        rem = [*rem[1:], 0]
        if factor:
            lf = _LOG[factor]
            for k, g in enumerate(_GEN_LOG):
                rem[k] ^= _EXP[lf + g]
    return rem


# --- placement -------------------------------------------------------------------------


def _is_function(r: int, c: int) -> bool:
    """Finder patterns with separators and format areas, timing lines, the dark module."""
    if (r < 9 and c < 9) or (r < 9 and c >= SIZE - 8) or (r >= SIZE - 8 and c < 9):
        return True
    return r == 6 or c == 6


def _data_positions() -> list[tuple[int, int]]:
    """Data module positions in placement order: column pairs from the right, zigzag."""
    positions = []
    col, upward = SIZE - 1, True
    while col > 0:
        if col == 6:  # the vertical timing line is skipped
            col -= 1
        rows = range(SIZE - 1, -1, -1) if upward else range(SIZE)
        for r in rows:
            for c in (col, col - 1):
                if not _is_function(r, c):
                    positions.append((r, c))
        upward = not upward
        col -= 2
    return positions


_POSITIONS = _data_positions()
assert len(_POSITIONS) == (DATA_CODEWORDS + EC_CODEWORDS) * 8


@lru_cache(maxsize=1)
def _template() -> bytes:
    """Function patterns and format information of 1-M with mask 0, data modules cleared,
    as one flat row-major array of SIZE × SIZE modules."""
    flat = bytearray(b"".join(bytes(row) for row in segno_matrix("0" * 6)))
    for r, c in _POSITIONS:
        flat[r * SIZE + c] = 0
    return bytes(flat)


@lru_cache(maxsize=1)
def _dark_modules() -> list[list[tuple[int, ...]]]:
    """For codeword i and its value v: the flat indices it makes dark (mask 0 folded in:
    a data module is inverted where row + column is even)."""
    table = []
    for i in range(DATA_CODEWORDS + EC_CODEWORDS):
        places = _POSITIONS[i * 8 : i * 8 + 8]
        table.append(
            [
                tuple(
                    r * SIZE + c
                    for bit, (r, c) in enumerate(places)
                    if ((value >> (7 - bit)) & 1) ^ ((r + c) % 2 == 0)
                )
                for value in range(256)
            ]
        )
    return table


def _codewords(text: str) -> list[int]:
    bits = [(0b0010, 4), (len(text), 9)]
    for i in range(0, len(text) - 1, 2):
        bits.append((_VALUE[text[i]] * 45 + _VALUE[text[i + 1]], 11))
    if len(text) % 2:
        bits.append((_VALUE[text[-1]], 6))
    value, length = 0, 0
    for v, n in bits:
        value, length = (value << n) | v, length + n
    capacity = DATA_CODEWORDS * 8
    terminator = min(4, capacity - length)
    value, length = value << terminator, length + terminator
    pad = (-length) % 8
    value, length = value << pad, length + pad
    data = list(value.to_bytes(length // 8, "big"))
    filler = (0xEC, 0x11)
    data += [filler[i % 2] for i in range(DATA_CODEWORDS - len(data))]
    return data + _ec(data)


def qr_matrix(text: str) -> Sequence[Sequence[int]]:
    """Rows of the QR code of `text` (1 = dark): the fast path for pickup-code-like text."""
    if not (0 < len(text) <= 8 and all(ch in _VALUE for ch in text)):
        return segno_matrix(text)
    flat = bytearray(_template())
    dark = _dark_modules()
    for i, value in enumerate(_codewords(text)):
        for index in dark[i][value]:
            flat[index] = 1
    return [flat[r * SIZE : (r + 1) * SIZE] for r in range(SIZE)]
