from __future__ import annotations

import pytest

from baogong.areas.addresses import (
    Address,
    AddressError,
    building_key,
    chinese_to_int,
    find_address,
    floor_of,
    parse_address,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3号楼2单元502", Address("3", "2", "502")),
        ("3号楼2单元502室", Address("3", "2", "502")),
        ("3栋502", Address("3", "", "502")),
        ("5-2-502", Address("5", "2", "502")),
        ("B座1203", Address("B", "", "1203")),
        ("3幢502室", Address("3", "", "502")),
        ("三号楼二单元502", Address("3", "2", "502")),
        ("12栋1单元1203", Address("12", "1", "1203")),
        ("5#2-502", Address("5", "2", "502")),
        ("３号楼５０２", Address("3", "", "502")),
        ("3 号楼 2 单元 502", Address("3", "2", "502")),
    ],
)
def test_parse_address_reads_how_people_write(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "张三", "3号楼", "楼502", "13800138000"])
def test_parse_address_rejects_non_addresses(text):
    with pytest.raises(AddressError):
        parse_address(text)


def test_find_address_in_a_chain_line():
    line = "12. 3号楼2单元502 张三 A套餐×2"
    address, (start, end) = find_address(line)
    assert address == Address("3", "2", "502")
    assert line[start:end] == "3号楼2单元502"
    assert find_address("12、3-2-502 李四 两份")[0] == Address("3", "2", "502")
    assert find_address("谢谢大家") is None


def test_building_keys_match_across_words():
    assert building_key("3号楼") == building_key("3栋") == building_key("第三栋") == "3"
    assert building_key("B座") == "B"


def test_chinese_numerals_and_floors():
    assert chinese_to_int("二十三") == 23
    assert chinese_to_int("一百零五") == 105
    assert floor_of("1203") == 12
    assert floor_of("502") == 5
    assert floor_of("5") is None
