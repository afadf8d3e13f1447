"""Every fragment box: write, read back, compare; and golden bytes for the layout."""

from __future__ import annotations

from typing import Any

import pytest

from packager.isobmff.box import iter_boxes
from packager.isobmff.fragment import (
    TFHD_DEFAULT_BASE_IS_MOOF,
    TFHD_DEFAULT_DURATION,
    TFHD_DEFAULT_FLAGS,
    TRUN_COMPOSITION_OFFSET,
    TRUN_DATA_OFFSET,
    TRUN_DURATION,
    TRUN_FIRST_SAMPLE_FLAGS,
    TRUN_FLAGS,
    TRUN_SIZE,
    FileType,
    MovieFragmentHeader,
    RunSample,
    TrackFragmentDecodeTime,
    TrackFragmentHeader,
    TrackRun,
)
from vodpipe.errors import BoxParseError

BOXES: list[Any] = [
    FileType("iso6", 0, ("iso6", "cmfc", "dash")),
    FileType("msdh", 0, ("msdh", "cmfs"), "styp"),
    MovieFragmentHeader(42),
    TrackFragmentHeader(1),
    TrackFragmentHeader(
        2,
        TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_DURATION | TFHD_DEFAULT_FLAGS,
        default_sample_duration=3000,
        default_sample_flags=0x01010000,
    ),
    TrackFragmentDecodeTime(0),
    TrackFragmentDecodeTime(2**40 + 7),
    TrackRun(
        (RunSample(3000, 100, 0x02000000, -3000), RunSample(3000, 50, 0x01010000, 6000)),
        TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | TRUN_COMPOSITION_OFFSET,
        data_offset=120,
    ),
    TrackRun(
        (RunSample(size=10), RunSample(size=20)),
        TRUN_SIZE | TRUN_FIRST_SAMPLE_FLAGS,
        first_sample_flags=0x02000000,
        version=0,
    ),
]


@pytest.mark.parametrize("value", BOXES, ids=lambda v: type(v).__name__)
def test_write_read_compare(value: Any) -> None:
    data = value.to_bytes()
    (parsed_box,) = iter_boxes(data)
    assert type(value).parse(parsed_box) == value
    assert type(value).parse(parsed_box).to_bytes() == data  # write, read, write: same bytes


def test_tfdt_is_written_as_version_1_and_reads_version_0() -> None:
    assert TrackFragmentDecodeTime(5).to_bytes() == bytes.fromhex("0000001474666474010000000000000000000005")
    (v0,) = iter_boxes(bytes.fromhex("00000010746664740000000000000009"))
    assert TrackFragmentDecodeTime.parse(v0).base_media_decode_time == 9


def test_trun_golden_bytes() -> None:
    run = TrackRun(
        (RunSample(1, 2, 3, -1),),
        TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | TRUN_COMPOSITION_OFFSET,
        data_offset=8,
    )
    assert run.to_bytes().hex() == (
        "000000247472756e01000f010000000100000008000000010000000200000003ffffffff"
    )


def test_trun_version_0_offsets_are_unsigned() -> None:
    (b,) = iter_boxes(bytes.fromhex("000000147472756e0000080000000001ffffffff"))
    assert TrackRun.parse(b).samples[0].composition_offset == 0xFFFFFFFF


def test_truncated_trun_is_an_error_with_its_type() -> None:
    (b,) = iter_boxes(bytes.fromhex("000000147472756e010003000000000500000001"))
    with pytest.raises(BoxParseError, match="5 sample entries is truncated"):
        TrackRun.parse(b)


def test_unknown_tfdt_version_is_refused() -> None:
    (b,) = iter_boxes(bytes.fromhex("0000001474666474020000000000000000000000"))
    with pytest.raises(BoxParseError, match="unsupported version 2"):
        TrackFragmentDecodeTime.parse(b)
