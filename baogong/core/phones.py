"""Mainland China phone numbers: parse, normalise, mask, find in free text.

Plain module (no ORM) so importers, parsers and templates can share it.
Normalised forms: mobiles as 11 digits ("13800138000"); landlines as
"<area code>-<number>" ("0710-3456789"), with "-<extension>" when given.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-‐–—()（）.]")
_IN_TEXT = re.compile(
    r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}|0\d{2,3}[\s\-]?\d{7,8})(?!\d)"
)


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """Return the normalised form of `raw`, or raise PhoneError."""
    text = str(raw).strip()
    if not text:
        raise PhoneError("empty")
    text = text.replace("＋", "+").translate(_FULLWIDTH_DIGITS)
    text = re.sub(r"(?i)(ext\.?|转|分机)", "ext", text)
    if text.endswith(".0"):  # a number that passed through a spreadsheet as a float
        text = text[:-2]
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("0086"):
        compact = compact[4:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    if _MOBILE.match(compact):
        return compact
    number, _, ext = compact.partition("ext")
    if number.startswith("0") and number.isdigit() and (not ext or ext.isdigit()):
        # Only the big cities have 3-digit area codes (010 Beijing, 02x); others have 4.
        area_len = 3 if number[:3] in _THREE_DIGIT_AREA_CODES else 4
        area, local = number[:area_len], number[area_len:]
        if 7 <= len(local) <= 8 and local[0] not in "01":
            return f"{area}-{local}" + (f"-{ext}" if ext else "")
    raise PhoneError("not a phone number")


def is_valid_phone(raw: str) -> bool:
    try:
        normalize_phone(raw)
    except PhoneError:
        return False
    return True


def mask_phone(phone: str) -> str:
    """Mask a normalised phone for labels, sheets and lists: 138****8000."""
    if not phone:
        return ""
    if _MOBILE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    if "-" in phone:
        area, number = phone.split("-")[:2]
        return f"{area}-****{number[-3:]}"
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def find_phones(text: str) -> list[str]:
    """Return the normalised phone numbers written anywhere in `text`."""
    found = []
    for match in _IN_TEXT.finditer(text.translate(_FULLWIDTH_DIGITS)):
        try:
            found.append(normalize_phone(match.group(1)))
        except PhoneError:
            continue
    return found


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－", "0123456789-")
_THREE_DIGIT_AREA_CODES = {"010", "020", "021", "022", "023", "024", "025", "027", "028", "029"}
