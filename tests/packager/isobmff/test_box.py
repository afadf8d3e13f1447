from __future__ import annotations

import pytest

from packager.isobmff.box import box, child, full_box, iter_boxes, parse_full_header
from vodpipe.errors import BoxParseError, PackagingError


def test_box_golden_bytes() -> None:
    assert box("free", b"abc") == b"\x00\x00\x00\x0bfreeabc"


def test_full_box_golden_bytes() -> None:
    assert full_box("mfhd", 0, 0, b"\x00\x00\x00\x07") == bytes.fromhex("000000106d6668640000000000000007")


def test_iter_boxes_reads_back_what_box_wrote() -> None:
    data = box("ftyp", b"iso6\x00\x00\x00\x00") + box("moov", box("mvhd", b"x" * 4)) + box("mdat", b"")
    found = list(iter_boxes(data))
    assert [(b.type, b.offset, b.size) for b in found] == [("ftyp", 0, 16), ("moov", 16, 20), ("mdat", 36, 8)]
    assert bytes(found[0].payload) == b"iso6\x00\x00\x00\x00"
    mvhd = child(data, "moov/mvhd")
    assert mvhd is not None
    assert bytes(mvhd.payload) == b"xxxx"
    assert child(data, "moov/trak") is None


def test_size_zero_extends_to_end() -> None:
    data = b"\x00\x00\x00\x00mdat" + b"payload"
    (only,) = iter_boxes(data)
    assert (only.type, only.size, bytes(only.payload)) == ("mdat", 15, b"payload")


def test_largesize_is_read() -> None:
    data = b"\x00\x00\x00\x01mdat" + (20).to_bytes(8, "big") + b"abcd"
    (only,) = iter_boxes(data)
    assert (only.offset, only.size, bytes(only.payload)) == (0, 20, b"abcd")  # 16-byte header


def test_full_header_is_split() -> None:
    (b,) = iter_boxes(full_box("tfdt", 1, 0x020000, b"\x00" * 8))
    version, flags, rest = parse_full_header(b)
    assert (version, flags, len(rest)) == (1, 0x020000, 8)


@pytest.mark.parametrize(
    ("data", "fourcc", "reason"),
    [
        pytest.param(b"\x00\x00\x00\x10moov\x00\x00", "moov", "runs past the end", id="truncated-box"),
        pytest.param(b"\x00\x00\x00\x04moov", "moov", "smaller than its header", id="size-below-header"),
        pytest.param(b"\x00\x00\x00", "????", "too few for a header", id="trailing-bytes"),
        pytest.param(b"\x00\x00\x00\x01mdat\x00\x00", "mdat", "largesize is truncated", id="short-largesize"),
    ],
)
def test_malformed_boxes_name_type_and_offset(data: bytes, fourcc: str, reason: str) -> None:
    with pytest.raises(BoxParseError, match=reason) as info:
        list(iter_boxes(box("free", b"") + data))
    assert info.value.fourcc == fourcc
    assert info.value.offset == 8
    assert isinstance(info.value, PackagingError)


def test_box_type_must_be_four_characters() -> None:
    with pytest.raises(ValueError, match="four characters"):
        box("toolong", b"")
