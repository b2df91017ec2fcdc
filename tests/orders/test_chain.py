"""The chain parser reads what people really write in a group chat (no database)."""

from __future__ import annotations

import time

import pytest

from baogong.areas.addresses import Address, find_address
from baogong.orders.chain import (
    BAD_QUANTITY,
    CHATTER,
    HEADER,
    NO_ADDRESS,
    NO_PACKAGE,
    UNKNOWN_PACKAGE,
    ChainParser,
    OfferRef,
    find_address_fast,
    parse_quantity,
)

OFFERS = [
    OfferRef("A", "米面粮油套餐", ("米面油",)),
    OfferRef("B", "蔬菜套餐", ("蔬菜", "菜包")),
]


@pytest.fixture(scope="module")
def parser() -> ChainParser:
    return ChainParser(OFFERS)


def one(parser: ChainParser, text: str):
    (line,) = parser.parse(text)
    return line


def items(line) -> dict[str, int]:
    return {item.code: item.quantity for item in line.items}


def test_the_example_chain_from_the_issue(parser):
    text = (
        "#接龙\n长虹小区保供团购 A套餐米面油 88元 B套餐蔬菜 39.9元\n\n"
        "1. 3号楼2单元502 张阿姨 A套餐×2\n2、3-2-502 李四 两份B\n"
        "3. 5栋1203 王五 138 0013 8000 套餐1 x1 B*2 谢谢🙏\n4. +1\n12. B座1203 赵 一箱A ..."
    )
    lines = parser.parse(text)
    assert [line.line for line in lines] == [1, 2, 4, 5, 6, 7, 8]  # line 3 is blank
    header, title, first, second, third, plus_one, twelfth = lines
    assert header.ignored == HEADER and title.ignored == HEADER
    assert (first.entry, first.address, first.name, items(first)) == (
        1,
        Address("3", "2", "502"),
        "张阿姨",
        {"A": 2},
    )
    assert (second.entry, second.address, second.name, items(second)) == (
        2,
        Address("3", "2", "502"),
        "李四",
        {"B": 2},
    )
    assert third.address == Address("5", "", "1203")
    assert third.phone == "13800138000"
    assert third.name == "王五"
    assert items(third) == {"A": 1, "B": 2}
    assert plus_one.ignored == CHATTER and plus_one.items == []
    assert (twelfth.entry, twelfth.address, twelfth.name, items(twelfth)) == (
        12,
        Address("B", "", "1203"),
        "赵",
        {"A": 1},
    )
    assert all(not line.problems for line in lines)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("12. 3-2-502 A", 12),
        ("12、3-2-502 A", 12),
        ("12) 3-2-502 A", 12),
        ("(12) 3-2-502 A", 12),
        ("（12）3-2-502 A", 12),
        ("12．3-2-502 A", 12),
        ("3-2-502 A", None),
    ],
)
def test_numbered_lines(parser, text, entry):
    line = one(parser, text)
    assert line.entry == entry
    assert line.address == Address("3", "2", "502")
    assert items(line) == {"A": 1}


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("3号楼2单元502", Address("3", "2", "502")),
        ("3-2-502", Address("3", "2", "502")),
        ("3栋502", Address("3", "", "502")),
        ("B座1203", Address("B", "", "1203")),
        ("3幢502室", Address("3", "", "502")),
        ("三号楼二单元502", Address("3", "2", "502")),
        ("３号楼２单元５０２", Address("3", "2", "502")),
        ("12栋1单元1203", Address("12", "1", "1203")),
    ],
)
def test_address_forms(parser, written, address):
    line = one(parser, f"5. {written} 王五 A×1")
    assert line.address == address
    assert line.name == "王五"
    assert items(line) == {"A": 1}


@pytest.mark.parametrize(
    "text",
    [
        "3号楼2单元502 张三",
        "3-2-502 李四",
        "5栋1203",
        "B座1203 赵",
        "3幢502室",
        "3-02-502",
        "a座101",
    ],
)
def test_fast_address_finder_agrees_with_the_register_parser(text):
    expected, span = find_address(text)
    found, start, end = find_address_fast(text)
    assert (found.building, found.room) == (expected.building, expected.room)
    assert found.unit == (str(int(expected.unit)) if expected.unit.isdigit() else expected.unit)
    assert (start, end) == span


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("A套餐×2", {"A": 2}),
        ("A x2", {"A": 2}),
        ("AX2", {"A": 2}),
        ("A*2", {"A": 2}),
        ("A 2份", {"A": 2}),
        ("A2份", {"A": 2}),
        ("A 2个", {"A": 2}),
        ("A 2", {"A": 2}),
        ("两份B", {"B": 2}),
        ("一箱A", {"A": 1}),
        ("三个A", {"A": 3}),
        ("A两份", {"A": 2}),
        ("2份A 1份B", {"A": 2, "B": 1}),
        ("A1份B2份", {"A": 1, "B": 2}),
        ("A 一份 B 两份", {"A": 1, "B": 2}),
        ("A、B各两份", {"A": 2, "B": 2}),
        ("AB各一份", {"A": 1, "B": 1}),
        ("A+B", {"A": 1, "B": 1}),
        ("A×1 A×1", {"A": 2}),
        ("a套餐", {"A": 1}),
        ("套餐1", {"A": 1}),
        ("套餐2 x2", {"B": 2}),
        ("1号", {"A": 1}),
        ("2号套餐", {"B": 1}),
        ("第二套餐", {"B": 1}),
        ("套餐一", {"A": 1}),
        ("B*2", {"B": 2}),
        ("米面粮油套餐 一份", {"A": 1}),
        ("米面粮油", {"A": 1}),
        ("米面油2份", {"A": 2}),
        ("蔬菜 x2", {"B": 2}),
        ("菜包", {"B": 1}),
        ("A套餐米面油 ×2", {"A": 2}),
        ("十二份A", {"A": 12}),
    ],
)
def test_packages_and_quantities(parser, written, expected):
    line = one(parser, f"3-2-502 {written}")
    assert items(line) == expected, line
    assert not line.problems


@pytest.mark.parametrize(
    "text",
    [
        "3-2-502 13800138000 A",
        "13800138000 3-2-502 A",
        "3-2-502 A 138 0013 8000",
        "3-2-502 A 138-0013-8000",
        "3-2-502 A +86 13800138000",
        "3-2-502A13800138000",
    ],
)
def test_phone_anywhere(parser, text):
    line = one(parser, text)
    assert line.phone == "13800138000"
    assert line.address == Address("3", "2", "502")
    assert items(line) == {"A": 1}


def test_a_phone_is_not_read_as_a_room(parser):
    line = one(parser, "王五 138-0013-8000 A")
    assert line.address is None
    assert line.phone == "13800138000"
    assert [p.code for p in line.problems] == [NO_ADDRESS]


@pytest.mark.parametrize(
    "text",
    ["谢谢", "+1", "4. +1", "已付", "🙏🙏", "收到，谢谢团长", "B套餐还有吗", "13800138000"],
)
def test_chatter_is_ignored_not_rejected(parser, text):
    line = one(parser, text)
    assert line.ignored in (CHATTER, HEADER)
    assert line.items == [] and line.problems == []


@pytest.mark.parametrize(
    "text",
    [
        "#接龙",
        "长虹小区保供团购 A套餐米面油 88元 B套餐蔬菜 39.9元",
        "例：1号楼1单元101 张三 A×1",
        "截单时间：今晚8点",
    ],
)
def test_header_and_example_lines_are_ignored(parser, text):
    assert one(parser, text).ignored == HEADER


def test_blank_lines_are_skipped_but_counted(parser):
    lines = parser.parse("\n\n1. 3-2-502 A\n   \n2. 3-2-503 B\n")
    assert [line.line for line in lines] == [3, 5]


def test_noise_around_an_order_is_ignored(parser):
    line = one(parser, "7. 🌸3-2-502 刘奶奶 A×1 已付 谢谢🙏🙏")
    assert items(line) == {"A": 1}
    assert line.name == "刘奶奶"
    assert not line.problems


def test_unknown_package_is_a_problem(parser):
    line = one(parser, "15. 7号楼1单元301 孙 C套餐 x1")
    assert [(p.code, p.written) for p in line.problems] == [(UNKNOWN_PACKAGE, "C套餐")]
    assert one(parser, "3-2-502 套餐3").problems[0].code == UNKNOWN_PACKAGE


def test_zero_or_huge_quantities_are_problems(parser):
    assert one(parser, "3-2-502 A*0").problems[0].code == BAD_QUANTITY
    assert one(parser, "3-2-502 A×1000").problems[0].code == BAD_QUANTITY


def test_an_address_without_a_package_needs_one_when_several_are_offered(parser):
    line = one(parser, "18. 8-1-102 郑")
    assert [p.code for p in line.problems] == [NO_PACKAGE]
    assert line.items == []


def test_an_address_alone_orders_the_only_package_of_a_single_package_round():
    single = ChainParser([OfferRef("A", "爱心菜包")])
    assert items(one(single, "3-2-502 王")) == {"A": 1}
    assert items(one(single, "3-2-502 王 2份")) == {"A": 2}


def test_a_numbered_line_without_address_is_kept_as_a_problem(parser):
    line = one(parser, "16. 周 A套餐×2")
    assert [p.code for p in line.problems] == [NO_ADDRESS]
    assert items(line) == {"A": 2}


def test_in_a_numbered_chain_unnumbered_lines_without_address_are_chat(parser):
    lines = parser.parse("1. 3-2-502 A\nA套餐还有吗\n2. 3-2-503 B")
    assert [line.ignored for line in lines] == ["", CHATTER, ""]


def test_rounds_numbered_1_2_3_accept_letters_as_positions():
    numbered = ChainParser([OfferRef("1", "米"), OfferRef("2", "面")])
    assert items(one(numbered, "3-2-502 1号 2号×2")) == {"1": 1, "2": 2}
    assert items(one(numbered, "3-2-502 B")) == {"2": 1}
    assert items(one(numbered, "3-2-502 套餐2")) == {"2": 1}


def test_the_compound_name_is_not_taken_for_a_name(parser):
    line = one(parser, "长虹小区3号楼2单元502 A")
    assert line.name == ""
    assert line.address == Address("3", "2", "502")


def test_line_as_dict_is_json_ready(parser):
    data = one(parser, "3. 5栋1203 王五 13800138000 A×2").as_dict()
    assert data["address"] == {"building": "5", "unit": "", "room": "1203"}
    assert data["items"] == [{"code": "A", "quantity": 2, "written": "A×2"}]
    assert data["phone"] == "13800138000"


def test_references_in_column_headings(parser):
    assert parser.references("A 米面粮油套餐") == (["A"], [])
    assert parser.references("蔬菜套餐（份）") == (["B"], [])
    assert parser.references("C套餐") == ([], ["C套餐"])
    assert parser.references("备注") == ([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("2.0", 2),
        ("两份", 2),
        ("一箱", 1),
        ("十二个", 12),
        ("×3", 3),
        ("", None),
        ("a", None),
    ],
)
def test_parse_quantity_for_sheet_cells(text, expected):
    assert parse_quantity(text) == expected


def test_ten_thousand_lines_parse_in_well_under_a_second(parser):
    forms = [
        "{n}. 3号楼2单元{r} 张阿姨 A套餐×2",
        "{n}、3-1-{r} 李四 两份B",
        "{n}. 5栋{r} 王五 138 0013 8000 套餐1 x1 B*2 谢谢🙏",
        "{n}) B座{r} 赵 一箱A",
        "+1",
    ]
    text = "\n".join(forms[n % 5].format(n=n, r=101 + n % 900) for n in range(10_000))
    started = time.process_time()
    lines = parser.parse(text)
    seconds = time.process_time() - started
    assert len(lines) == 10_000
    # About 0.4 s of CPU on the 2-core CI machine; the bound leaves room for slower runners.
    assert seconds < 2.0
