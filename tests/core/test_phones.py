from __future__ import annotations

import pytest

from baogong.core.phones import PhoneError, find_phones, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("13800138000.0", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("0710-3456789", "0710-3456789"),
        ("(0710) 345 6789", "0710-3456789"),
        ("021-62345678", "021-62345678"),
        ("0710-3456789转23", "0710-3456789-23"),
    ],
)
def test_normalize_phone_accepts_mobile_and_landline(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["", "12345", "23800138000", "1380013800", "abc", "0710-12"])
def test_normalize_phone_rejects_garbage(raw):
    with pytest.raises(PhoneError):
        normalize_phone(raw)


def test_mask_phone_hides_the_middle():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("0710-3456789") == "0710-****789"
    assert mask_phone("") == ""


def test_find_phones_in_free_text():
    assert find_phones("3号楼502 张三 138-0013-8000 两份 电话0710-3456789") == [
        "13800138000",
        "0710-3456789",
    ]
