"""Parse flat addresses the way people write them: 3号楼2单元502, 3栋502, 5-2-502, B座1203.

Plain module (no ORM): the register import and the order-chain parser share it.
A building is matched by its key ("3", "B", "12A"), whatever word follows it
(号楼/栋/幢/座/楼/#), so "3号楼" in a file finds the building named "3栋".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－＃",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-#",
)
_CN_NUMBER = "[零〇一二两三四五六七八九十百千]+"
_KEY = rf"(?:[A-Za-z]?\d+[A-Za-z]?|[A-Za-z]|{_CN_NUMBER})"
_BUILDING_WORD = r"(?:号楼|号|栋|幢|座|楼|#|号院)"
_UNIT_WORD = r"(?:单元|门|号门)"
_ROOM = r"(?P<room>[A-Za-z]?\d{2,5}[A-Za-z]?)\s*(?:室|号|房)?"

_PATTERNS = [
    # 3号楼2单元502(室), 3栋二单元502, B座1单元1203
    re.compile(
        rf"^(?P<building>{_KEY})\s*{_BUILDING_WORD}\s*-?\s*(?P<unit>{_KEY})\s*{_UNIT_WORD}"
        rf"\s*-?\s*{_ROOM}$"
    ),
    # 3号楼502, 3栋502, B座1203, 3幢502室
    re.compile(rf"^(?P<building>{_KEY})\s*{_BUILDING_WORD}\s*-?\s*{_ROOM}$"),
    # 5-2-502, 5#2-502, 5/2/502
    re.compile(rf"^(?P<building>[A-Za-z]?\d+[A-Za-z]?)\s*[-#/]\s*(?P<unit>\d+)\s*[-/]\s*{_ROOM}$"),
    # 5-502, B-1203
    re.compile(rf"^(?P<building>[A-Za-z]?\d+[A-Za-z]?|[A-Za-z])\s*[-#/]\s*{_ROOM}$"),
]
# Where an address can start inside a longer line of text.
ADDRESS_IN_TEXT = re.compile(
    rf"(?P<building>{_KEY})\s*{_BUILDING_WORD}\s*(?:-?\s*(?P<unit>{_KEY})\s*{_UNIT_WORD})?"
    rf"\s*-?\s*(?P<room>[A-Za-z]?\d{{2,5}}[A-Za-z]?)(?:\s*(?:室|房))?"
    rf"|(?<![\d.])(?P<b2>[A-Za-z]?\d{{1,3}}[A-Za-z]?)\s*[-#/]\s*(?:(?P<u2>\d{{1,2}})\s*[-/]\s*)?"
    rf"(?P<r2>\d{{3,5}})(?!\d)"
)


class AddressError(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    building: str  # building key: "3", "B", "12A"
    unit: str  # entrance number as digits, "" if none
    room: str  # "502", "1203", "B12"

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.room)


def chinese_to_int(text: str) -> int:
    """Convert a Chinese numeral (一, 十二, 二十三, 一百零五, 两) to an int."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
        else:
            raise AddressError(f"not a number: {text}")
    return total + current


def _normalize_key(raw: str) -> str:
    raw = raw.strip().upper()
    if re.fullmatch(_CN_NUMBER, raw):
        return str(chinese_to_int(raw))
    if raw.isdigit():
        return str(int(raw))
    return raw


def normalize_text(text: str) -> str:
    return str(text).translate(_FULLWIDTH).strip()


def building_key(name: str) -> str:
    """Return the key of a building name: "3号楼" → "3", "B座" → "B", "12栋" → "12"."""
    text = normalize_text(name)
    match = re.fullmatch(rf"(?:第)?\s*({_KEY})\s*{_BUILDING_WORD}?", text)
    if not match:
        return text.upper()
    return _normalize_key(match.group(1))


def building_name(key: str) -> str:
    """The name a new building gets from its key: "3" → "3号楼", "B" → "B座"."""
    return f"{key}号楼" if key[:1].isdigit() else f"{key}座"


def unit_key(raw: str) -> str:
    """Normalise an entrance: "2单元" → "2", "二" → "2", "" → ""."""
    text = normalize_text(raw)
    text = re.sub(rf"{_UNIT_WORD}$", "", text).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text:
        return ""
    if not re.fullmatch(_KEY, text):
        raise AddressError(f"bad entrance: {raw}")
    return _normalize_key(text)


def room_key(raw: str) -> str:
    text = normalize_text(raw)
    if text.endswith(".0"):
        text = text[:-2]
    text = re.sub(r"(室|号|房)$", "", text).strip().upper()
    if not re.fullmatch(r"[A-Z]?\d{1,5}[A-Z]?", text):
        raise AddressError(f"bad room: {raw}")
    return text


def parse_address(text: str) -> Address:
    """Parse a whole address string; raise AddressError if it is not one."""
    cleaned = re.sub(r"\s+", "", normalize_text(text))
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            groups = match.groupdict()
            return Address(
                building=_normalize_key(groups["building"]),
                unit=unit_key(groups.get("unit") or ""),
                room=room_key(groups["room"]),
            )
    raise AddressError(f"not an address: {text}")


def find_address(text: str) -> tuple[Address, tuple[int, int]] | None:
    """Find the first address inside a line of free text; return it and its span."""
    match = ADDRESS_IN_TEXT.search(normalize_text(text))
    if not match:
        return None
    g = match.groupdict()
    if g["room"]:
        address = Address(
            _normalize_key(g["building"]), unit_key(g["unit"] or ""), room_key(g["room"])
        )
    else:
        address = Address(_normalize_key(g["b2"]), g["u2"] or "", room_key(g["r2"]))
    return address, match.span()


def floor_of(room: str) -> int | None:
    """The floor a room number says: 502 → 5, 1203 → 12; None when it does not say."""
    digits = re.sub(r"\D", "", room or "")
    if len(digits) < 3:
        return None
    return int(digits[:-2]) or None
