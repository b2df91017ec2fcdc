"""Read a group-chat order chain (接龙) the way people write it.

Plain module: no ORM, no Django. The round's offers come in as plain data
(`OfferRef`: option code, name, short names), so the parser is built once per
round and then reads each line with a handful of precompiled regular
expressions (some 40 µs of CPU a line).

A line such as ``12. 3号楼2单元502 张阿姨 138 0013 8000 A套餐×2 B*1 谢谢🙏`` gives:
its number in the chain (12), the address (building 3, entrance 2, room 502),
the phone, a name guess (张阿姨), the packages with quantities (A ×2, B ×1) and
a list of problems (no address, no package, unknown package, bad quantity).
Lines that carry no order at all (the chain's header, chatter, "+1", the
example line) are marked ignored rather than rejected. Matching a line to a
household and an offer in the database is `baogong.orders.intake`'s job.

Read order within a line: numbering, then phones (so their digits are not
taken for a room), then the address, then package references and quantities
in what is left, then a name in what remains after that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from baogong.areas.addresses import ADDRESS_IN_TEXT, Address, chinese_to_int
from baogong.core.phones import PhoneError, normalize_phone

MAX_QUANTITY = 999

# Problem codes (intake.py turns them into messages).
NO_ADDRESS = "no_address"
NO_PACKAGE = "no_package"
UNKNOWN_PACKAGE = "unknown_package"
BAD_QUANTITY = "bad_quantity"

# Why a line was ignored.
HEADER = "header"
CHATTER = "chatter"

# Full-width ASCII (０-９, Ａ-Ｚ, ＊, （, ：…) to half-width, and the ideographic space.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_NEEDS_HALF_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_CJK = "\u4e00-\u9fff"
# Small quantities as people write them in Chinese: 一 … 九, 十, 十二, 二十, 二十五.
_CN_QTY = (
    "(?:[一二两三四五六七八九]|十[一二三四五六七八九]?|[二三四五六七八九]十[一二三四五六七八九]?)"
)
_NUM = rf"(?:\d{{1,4}}(?![\d.])|{_CN_QTY})"
# An option number: 1, 12, 一, 十二.
_OPTION_NUM = "(?:\\d{1,3}(?!\\d)|[一二三四五六七八九十]{1,3})"
# Counting words: 2份, 一箱, 三个. 套 only when not the start of 套餐.
_UNIT = "(?:份|箱|个|袋|件|包|盒|组|提|桶|只|瓶|套(?!餐))"
_MULT = "[x×X*✕✖]"
# Every way of naming an option by letter or number, each alternative with its own group:
#   n_*: by number (套餐1, 1号套餐, 第一套餐, 1号); l_*: by letter (A套餐, 套餐A, A餐, A).
# Those ending in 套餐 are package references for sure (unknown ones are reported);
# a bare letter or "5号" that is no option is just text.
_OPTION_FORMS = (
    rf"第\s*(?P<n_nth>{_OPTION_NUM})\s*(?:个|款|种)?\s*套餐"
    rf"|(?P<n_hao_set>{_OPTION_NUM})\s*号\s*套餐"
    rf"|套餐\s*(?P<n_set>{_OPTION_NUM})"
    rf"|套餐\s*(?P<l_set>[A-Za-z]{{1,2}})(?![A-Za-z])"
    rf"|(?<![A-Za-z])(?P<l_set_after>[A-Za-z]{{1,2}})\s*号?\s*套餐"
    rf"|(?P<n_hao>{_OPTION_NUM})\s*号(?![楼院栋\d])"
    rf"|{_MULT}\s*(?P<mult>{_NUM})"
    # A second letter is never x (A×2 typed as "Ax2"), and x may follow: that is the ×.
    rf"|(?<![A-Za-z])(?P<l_bare>[A-Za-z][A-WYZa-wyz]?)(?:\s*(?:餐|款|类|号|套(?!餐)))?"
    rf"(?![A-WYZa-wyz])"
    rf"|各\s*(?P<each>{_NUM})\s*{_UNIT}?"
    rf"|(?P<unitq>{_NUM})\s*{_UNIT}"
    r"|(?<![\d.])(?P<bare>\d{1,2})(?![\d.元块%号楼栋])"
)
_TOKEN_STARTS = "A-Za-z0-9一二两三四五六七八九十套第各x×X*✕✖"
_SURE_REFERENCES = frozenset({"n_nth", "n_hao_set", "n_set", "l_set", "l_set_after"})
_QUANTITIES = frozenset({"mult", "each", "unitq", "bare"})

_NUMBERING = re.compile(
    r"^\s*(?:[(\[【（]\s*(?P<a>\d{1,4})\s*[)\]】）]|(?P<b>\d{1,4})\s*[.、,:)．，：）])\s*"
)
# A mainland mobile (with spaces or dashes as people type them) or a landline.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}|0\d{2,3}[\s\-]?\d{7,8})(?!\d)"
)
_HEADER = re.compile(r"^#|接龙|团购|截单|截止|开团|价格|单价|\d+(?:\.\d+)?\s*(?:元|块)|[¥￥]")
# The organiser's sample line ("例：1号楼1单元101 张三 A×1") has an address but is no order.
_EXAMPLE = re.compile(r"^\s*(?:例如|示例|举例|格式|范例|例)\s*[:：]?")
_QUESTION = re.compile("[吗呢?？]")
# Words that are neither a name nor an order: thanks, payment remarks, fillers.
_NOISE = re.compile(
    rf"谢谢|感谢|多谢|辛苦了?|麻烦了?|已付款?|已转账?|已支付|已交|付了|未付|已下单|团长|接龙|"
    rf"加一|\+\s*1|我要|我家|要|买|订|共|合计|总共|一共|各|备注|"
    rf"[{_CJK}]{{0,6}}(?:小区|社区|花园|家园|公寓|大厦|苑)"
)
_NAME = re.compile(rf"(?<![{_CJK}])[{_CJK}]{{1,4}}(?![{_CJK}])")
_ONLY_SEPARATORS = re.compile(r"[\s:,;/、]*")
_CN_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千]+")


@dataclass(frozen=True, slots=True)
class OfferRef:
    """What the parser knows of an offer: its option code, name and short names."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    written: str = ""  # the text the problem is about, e.g. "C套餐"


@dataclass(slots=True)
class Item:
    code: str  # the offer's option code
    quantity: int
    written: str  # as written: "A套餐×2"


@dataclass(slots=True)
class ChainLine:
    """One non-blank line of the paste and what it says."""

    line: int  # 1-based line number in the paste (or row number in a sheet)
    text: str  # the line as pasted
    entry: int | None = None  # the chain's own number ("12." → 12)
    address: Address | None = None
    address_text: str = ""  # the address as written
    phone: str = ""  # normalised
    name: str = ""  # a guess, for showing only
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: str = ""  # HEADER or CHATTER when the line carries no order
    note: str = ""  # a remark column of a sheet

    @property
    def quantities(self) -> dict[str, int]:
        """Option code → quantity."""
        return {item.code: item.quantity for item in self.items}

    def as_dict(self) -> dict[str, Any]:
        address = self.address
        return {
            "line": self.line,
            "text": self.text,
            "entry": self.entry,
            "address": None
            if address is None
            else {"building": address.building, "unit": address.unit, "room": address.room},
            "address_text": self.address_text,
            "phone": self.phone,
            "name": self.name,
            "items": [
                {"code": i.code, "quantity": i.quantity, "written": i.written} for i in self.items
            ],
            "problems": [{"code": p.code, "written": p.written} for p in self.problems],
            "ignored": self.ignored,
        }


@dataclass(slots=True)
class _Mention:
    offer: int
    written: str
    end: int
    quantity: int | None = None


def half_width(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width (one pass, skipped if none)."""
    return text.translate(_HALF_WIDTH) if _NEEDS_HALF_WIDTH.search(text) else text


def _key(raw: str) -> str:
    """A building or entrance key as `addresses` normalises it: 03 → 3, 三 → 3, b → B."""
    if raw.isdigit():
        return str(int(raw))
    if _CN_NUMERAL.fullmatch(raw):
        return str(chinese_to_int(raw))
    return raw.upper()


def find_address_fast(text: str) -> tuple[Address, int, int] | None:
    """`addresses.find_address` for text that is already half-width: same pattern, same keys,
    without re-normalising the line (a third of the parser's time went there)."""
    match = ADDRESS_IN_TEXT.search(text)
    if match is None:
        return None
    room = match.group("room")
    if room:
        unit = match.group("unit")
        address = Address(_key(match.group("building")), _key(unit) if unit else "", room.upper())
    else:
        unit = match.group("u2")
        address = Address(
            _key(match.group("b2")), _key(unit) if unit else "", match.group("r2").upper()
        )
    return address, match.start(), match.end()


def _name_forms(name: str) -> list[str]:
    """A package name as written in chains: 米面粮油套餐, and 米面粮油 without 套餐."""
    name = re.sub(r"\s+", "", half_width(name))
    if not name:
        return []
    forms = [name]
    short = name.removesuffix("套餐").removesuffix("包")
    if short != name and len(short) >= 2:
        forms.append(short)
    return forms


def _number(text: str) -> int:
    return int(text) if text.isdigit() else chinese_to_int(text)


def parse_quantity(text: str) -> int | None:
    """A quantity written in a cell: 2, 2.0, ×2, 两份, 一箱, 十二个. None if it is not one."""
    match = re.fullmatch(
        rf"\s*(?:{_MULT}\s*)?(?P<n>\d{{1,4}}(?:\.0+)?|{_CN_QTY})\s*{_UNIT}?\s*",
        half_width(str(text)),
    )
    if not match:
        return None
    return _number(match.group("n").split(".")[0])


class ChainParser:
    """Reads chain lines for one round's offers. Build once per paste; reuse for every line."""

    def __init__(self, offers: Sequence[OfferRef]) -> None:
        self.offers = list(offers)
        self.codes = [half_width(o.code).strip().upper() for o in self.offers]
        all_digits = bool(self.codes) and all(c.isdigit() for c in self.codes)
        self._by_number: dict[int, int] = {
            int(c): i for i, c in enumerate(self.codes) if c.isdigit()
        }
        self._by_letter: dict[str, int] = {
            c: i for i, c in enumerate(self.codes) if c and not c.isdigit()
        }
        # People also count the options: 套餐1 is the first whatever its letter, and
        # in a round numbered 1, 2, 3, A is the first.
        for i, code in enumerate(self.codes):
            if not code.isdigit():
                self._by_number.setdefault(i + 1, i)
            elif all_digits and i < 26:
                self._by_letter.setdefault(chr(ord("A") + i), i)
        self._by_name: dict[str, int] = {}
        for i, offer in enumerate(self.offers):
            for text in (offer.name, *offer.aliases):
                for form in _name_forms(text):
                    self._by_name.setdefault(form, i)
        names = sorted(self._by_name, key=len, reverse=True)  # 米面粮油套餐 before 米面粮油
        # Most characters of a line (names, spaces, emoji) cannot start a token; saying which
        # can lets the engine skip them instead of trying every alternative at each one.
        starts = "".join(sorted({re.escape(n[0]) for n in names})) + _TOKEN_STARTS
        named = "(?P<name>{})|".format("|".join(map(re.escape, names))) if names else ""
        self._tokens = re.compile(rf"(?=[{starts}])(?:{named}{_OPTION_FORMS})")

    # --- public ------------------------------------------------------------------------

    def parse(self, text: str) -> list[ChainLine]:
        """Parse a whole paste; blank lines are skipped (line numbers still count them)."""
        lines = [
            self.parse_line(number, raw)
            for number, raw in enumerate(text.splitlines(), start=1)
            if raw.strip()
        ]
        if any(line.entry is not None for line in lines):
            # In a numbered chain, an unnumbered line without address or phone is chat.
            for line in lines:
                if line.entry is None and not line.ignored and not line.address and not line.phone:
                    line.ignored = CHATTER
                    line.items, line.problems = [], []
        return lines

    def parse_line(self, number: int, raw: str) -> ChainLine:
        """Read one line (see the module docstring for the order of the steps)."""
        text = half_width(raw).strip()
        line = ChainLine(line=number, text=raw.strip())
        if _EXAMPLE.match(text):
            line.ignored = HEADER
            return line
        numbering = _NUMBERING.match(text)
        if numbering:
            line.entry = int(numbering.group("a") or numbering.group("b"))
            text = text[numbering.end() :]
        text = _take_phone(line, text)
        found = find_address_fast(text)
        if found is not None:
            line.address, start, end = found
            line.address_text = text[start:end].strip()
            text = f"{text[:start]} \x00 {text[end:]}"
        leftover = self._take_items(line, text)
        line.name = _guess_name(leftover)
        self._classify(line, text)
        return line

    def references(self, text: str) -> tuple[list[str], list[str]]:
        """Option codes a short text names (a column heading), and unknown package words."""
        codes: list[str] = []
        unknown: list[str] = []
        for token in self._tokens.finditer(half_width(str(text))):
            kind = token.lastgroup or ""
            if kind in _QUANTITIES:
                continue
            indexes = self._offers_for(kind, token.group(kind))
            if indexes is None:
                if kind in _SURE_REFERENCES:
                    unknown.append(token.group().strip())
                continue
            codes += [self.codes[i] for i in indexes if self.codes[i] not in codes]
        return codes, unknown

    # --- steps ------------------------------------------------------------------------

    def _offers_for(self, kind: str, value: str) -> list[int] | None:
        """The offers a reference token names, or None if it names no offer of this round."""
        if kind == "name":
            return [self._by_name[value]]
        if kind.startswith("n_"):
            index = self._by_number.get(_number(value))
            return None if index is None else [index]
        value = value.upper()
        if value in self._by_letter:
            return [self._by_letter[value]]
        if kind == "l_bare" and len(value) > 1 and all(c in self._by_letter for c in value):
            return [self._by_letter[c] for c in value]  # "AB各一份"
        return None

    def _take_items(self, line: ChainLine, text: str) -> str:
        """Read package references and quantities; return the text they did not use."""
        tokens = list(self._tokens.finditer(text))
        mentions: list[_Mention] = []
        group: list[_Mention] = []  # mentions since the last quantity, for "A、B各一份"
        pending: int | None = None  # a quantity written before its package: 两份B
        pending_text = ""
        orphan: int | None = None  # a quantity with no package: for a one-package round
        leftover: list[str] = []
        position = 0
        for i, token in enumerate(tokens):
            leftover.append(text[position : token.start()])
            position = token.end()
            kind = token.lastgroup or ""
            written = token.group().strip()
            if kind not in _QUANTITIES:
                indexes = self._offers_for(kind, token.group(kind))
                if indexes is None:
                    if kind in _SURE_REFERENCES:
                        line.problems.append(Problem(UNKNOWN_PACKAGE, written))
                    else:
                        leftover.append(written)
                    continue
                for index in indexes:
                    mention = _Mention(index, written, token.end())
                    if pending is not None:
                        mention.quantity = pending
                        mention.written = f"{pending_text}{written}"
                    mentions.append(mention)
                    group.append(mention)
                pending = None
                continue
            quantity = self._quantity(line, token.group(kind), written)
            last = mentions[-1] if mentions else None
            open_last = last is not None and last.quantity is None
            right_after = bool(
                open_last and _ONLY_SEPARATORS.fullmatch(text, last.end, token.start())  # type: ignore[union-attr]
            )
            if kind == "each":
                for mention in group:
                    if mention.quantity is None:
                        mention.quantity = quantity
                if not group:
                    orphan = quantity
                group = []
            elif kind == "bare" and not right_after:
                leftover.append(written)  # a number on its own: not a quantity
            elif kind in ("mult", "bare"):
                if open_last:
                    _attach(last, quantity, written)  # type: ignore[arg-type]
                    group = []
                else:
                    orphan = quantity
            elif right_after:  # "A 2份": the quantity follows its package
                _attach(last, quantity, written)  # type: ignore[arg-type]
                group = []
            elif _next_is_adjacent_reference(tokens, i, text):  # "两份B"
                pending, pending_text = quantity, written
            elif open_last:
                _attach(last, quantity, written)  # type: ignore[arg-type]
                group = []
            else:
                pending, pending_text, orphan = quantity, written, quantity
        leftover.append(text[position:])
        self._sum_items(line, mentions, orphan)
        return " ".join(leftover)

    @staticmethod
    def _quantity(line: ChainLine, number: str, written: str) -> int:
        value = _number(number)
        if not 0 < value <= MAX_QUANTITY:
            line.problems.append(Problem(BAD_QUANTITY, written))
        return value

    def _sum_items(self, line: ChainLine, mentions: list[_Mention], orphan: int | None) -> None:
        """One item per offer: the sum of the quantities written for it, else 1."""
        by_offer: dict[int, list[_Mention]] = {}
        for mention in mentions:
            by_offer.setdefault(mention.offer, []).append(mention)
        for index, said in by_offer.items():
            counted = [m.quantity for m in said if m.quantity is not None]
            written = " ".join(m.written for m in said)
            line.items.append(Item(self.codes[index], sum(counted) if counted else 1, written))
        if not mentions and orphan is not None and len(self.codes) == 1:
            line.items.append(Item(self.codes[0], orphan, ""))

    def _classify(self, line: ChainLine, text: str) -> None:
        has_order = bool(line.items) or any(p.code == UNKNOWN_PACKAGE for p in line.problems)
        if line.address is None:
            header = not line.phone and _HEADER.search(text)
            # A phone number on its own, "+1", "谢谢" or "B套餐还有吗?" is not an order.
            question = not line.phone and _QUESTION.search(text)
            if header or question or not has_order:
                line.ignored = HEADER if header else CHATTER
                line.items, line.problems = [], []
                return
            line.problems.insert(0, Problem(NO_ADDRESS))
        if not has_order:
            if len(self.codes) == 1:  # one package on offer: an address alone orders one
                line.items.append(Item(self.codes[0], 1, ""))
            else:
                line.problems.append(Problem(NO_PACKAGE))


def _take_phone(line: ChainLine, text: str) -> str:
    """Keep the first phone; blank every phone out so its digits are not read as a room."""
    for match in _PHONE.finditer(text):
        try:
            phone = normalize_phone(match.group(1))
        except PhoneError:
            continue
        line.phone = line.phone or phone
        start, end = match.span()
        text = f"{text[:start]}{chr(0) * (end - start)}{text[end:]}"
    return text


def _attach(mention: _Mention, quantity: int, written: str) -> None:
    mention.quantity = quantity
    mention.written = f"{mention.written}{written}"


def _next_is_adjacent_reference(tokens: list[re.Match[str]], i: int, text: str) -> bool:
    if i + 1 >= len(tokens) or (tokens[i + 1].lastgroup or "") in _QUANTITIES:
        return False
    return not text[tokens[i].end() : tokens[i + 1].start()].strip()


def _guess_name(leftover: str) -> str:
    match = _NAME.search(_NOISE.sub(" ", leftover))
    return match.group() if match else ""
