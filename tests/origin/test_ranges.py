from __future__ import annotations

import pytest

from origin.ranges import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("bytes=0-99", ByteRange(0, 99), id="first-100"),
        pytest.param("bytes=900-", ByteRange(900, 999), id="open-ended"),
        pytest.param("bytes=-100", ByteRange(900, 999), id="suffix"),
        pytest.param("bytes=-5000", ByteRange(0, 999), id="suffix-longer-than-object"),
        pytest.param("bytes=990-2000", ByteRange(990, 999), id="end-clamped"),
        pytest.param("bytes=0-9,10-19", ByteRange(0, 19), id="adjacent-coalesced"),
        pytest.param("bytes=0-9, 5-30", ByteRange(0, 30), id="overlapping-coalesced"),
        pytest.param("bytes=0-9,50-59", None, id="disjoint-served-whole"),
        pytest.param("bytes=5000-6000,0-9", ByteRange(0, 9), id="one-satisfiable-of-two"),
        pytest.param("items=0-9", None, id="other-unit-ignored"),
        pytest.param("bytes=9-0", None, id="reversed-ignored"),
        pytest.param("bytes=abc", None, id="garbage-ignored"),
        pytest.param("bytes=-", None, id="empty-spec-ignored"),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges_raise_with_the_size(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, 1000)
    assert info.value.size == 1000
    assert info.value.status == 416


def test_content_range() -> None:
    assert ByteRange(0, 99).content_range(1000) == "bytes 0-99/1000"
    assert ByteRange(0, 99).length == 100


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("bytes=0-9,", ByteRange(0, 9), id="empty-element-skipped"),
        pytest.param("BYTES = 0-9", ByteRange(0, 9), id="unit-case-insensitive"),
        pytest.param("bytes=", None, id="no-spec"),
        pytest.param("bytes=\u0660-\u0669", None, id="non-ascii-digits-ignored"),
        pytest.param("bytes=0-" + "9" * 5000, None, id="absurd-number-ignored"),
        pytest.param("bytes=0000000000000000000000000-9", ByteRange(0, 9), id="leading-zeros"),
    ],
)
def test_parse_range_leniently(header: str, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


def test_a_suffix_range_of_an_empty_object_is_served_whole() -> None:
    """§14.1.1: satisfiable on a zero-length object, yet no Content-Range can name zero bytes."""
    assert parse_range("bytes=-5", 0) is None
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)  # first-pos 0 is not below the length 0
