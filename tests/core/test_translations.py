"""The Simplified Chinese catalog is complete and its placeholders match the English.

A missing or fuzzy entry shows English in the Chinese interface (fuzzy entries
are not compiled); a lost or renamed placeholder makes `%` formatting raise
or print the wrong value.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

PO_PATH = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# A Python %-conversion: %(name)s, %s, %d, %.2f …; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]"
)
NAMED = re.compile(r"%\([^)]*\)[#0 +-]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


@cache
def catalog() -> Catalog:
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file)


def messages() -> list[Message]:
    return [message for message in catalog() if message.id]


def forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, str):
        return [value]
    return [form or "" for form in value]


def label(message: Message) -> str:
    context = f"[{message.context}] " if message.context else ""
    return context + forms(message.id)[0]


def placeholders(text: str, *, format_string: bool) -> Counter[str]:
    """The placeholders of `text`: each name once, each positional one as often as it occurs."""
    if not format_string:
        # Not a format string: only guard against a stray %(name)s sneaking in.
        return Counter(set(NAMED.findall(text)))
    found: Counter[str] = Counter()
    for match in PLACEHOLDER.finditer(text):
        if match.group(0) == "%%":
            continue
        if match.group("name") is not None:
            found[match.group(0)] = 1
        else:
            found[match.group(0)] += 1
    return found


def test_header_declares_chinese_with_one_plural_form():
    assert not catalog().fuzzy
    assert str(catalog().locale) == "zh_Hans"
    assert catalog().num_plurals == 1
    assert catalog().plural_expr.strip() == "0"
    assert catalog().charset.lower() == "utf-8"


def test_every_message_is_translated_and_not_fuzzy():
    assert messages(), "the catalog is empty: run makemessages -l zh_Hans"
    untranslated = [label(m) for m in messages() if not all(s.strip() for s in forms(m.string))]
    fuzzy = [label(m) for m in messages() if m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"


def test_plural_messages_have_exactly_one_form():
    wrong = [label(m) for m in messages() if m.pluralizable and len(forms(m.string)) != 1]
    assert not wrong, wrong


def test_placeholders_match_between_english_and_chinese():
    problems = []
    for message in messages():
        # Chinese has one plural form, so it must carry every placeholder of
        # both English forms (the singular may leave the count out).
        expected: Counter[str] = Counter()
        for source in forms(message.id):
            expected |= placeholders(source, format_string=message.python_format)
        for translation in forms(message.string):
            found = placeholders(translation, format_string=message.python_format)
            if found != expected:
                problems.append(
                    f"{label(message)!r}: missing {sorted((expected - found).elements())}, "
                    f"extra {sorted((found - expected).elements())}"
                )
    assert not problems, "\n".join(problems)
