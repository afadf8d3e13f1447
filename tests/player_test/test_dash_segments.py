"""DASH addressing on hand-written MPDs and a hand-built sidx: byte ranges and durations."""

from __future__ import annotations

import struct
from fractions import Fraction

import pytest
from mpegdash.parser import MPEGDASHParser

from player_test.dash_segments import AddressingError, addressing, byte_range, with_index
from player_test.fetch import MediaRef
from player_test.media import MediaError
from player_test.sidx import read_sidx

BASE = "http://o/t/v1/"


def sidx(
    version: int, timescale: int, earliest: int, first_offset: int, refs: list[tuple[int, int]]
) -> bytes:
    """A sidx box (ISO/IEC 14496-12 §8.16.3) with (referenced_size, subsegment_duration) references."""
    body = bytes([version, 0, 0, 0]) + struct.pack(">II", 1, timescale)
    body += struct.pack(">II" if version == 0 else ">QQ", earliest, first_offset)
    body += struct.pack(">HH", 0, len(refs))
    for size, duration in refs:
        body += struct.pack(">III", size, duration, 0x90000000)  # starts_with_SAP, SAP type 1
    return struct.pack(">I4s", 8 + len(body), b"sidx") + body


@pytest.mark.parametrize("version", [0, 1])
def test_sidx_references_become_absolute_byte_ranges(version: int) -> None:
    box = sidx(version, 15360, 0, 0, [(1000, 30720), (900, 30720), (500, 15360)])
    # The box sits at file offset 835; subsegments start right after it (first_offset 0).
    index = read_sidx(box, 835)
    after = 835 + len(box)  # v0: 835 + 32 + 36 = 903; v1: 835 + 40 + 36 = 911
    assert after == (903 if version == 0 else 911)
    assert [(s.first, s.last) for s in index.subsegments] == [
        (after, after + 999),
        (after + 1000, after + 1899),
        (after + 1900, after + 2399),
    ]
    assert [s.duration for s in index.subsegments] == [Fraction(2), Fraction(2), Fraction(1)]
    assert all(s.starts_with_sap for s in index.subsegments)


def test_sidx_first_offset_skips_bytes_after_the_box() -> None:
    box = sidx(0, 1000, 500, 100, [(10, 1000)])
    (sub,) = read_sidx(box, 0).subsegments
    assert (sub.first, sub.last) == (len(box) + 100, len(box) + 109)
    assert read_sidx(box, 0).earliest_presentation_time == 500


def test_a_hierarchical_or_missing_sidx_is_a_media_error() -> None:
    box = bytearray(sidx(0, 1000, 0, 0, [(10, 1000)]))
    box[32] |= 0x80  # reference_type 1: another sidx
    with pytest.raises(MediaError, match="hierarchical"):
        read_sidx(bytes(box), 0)
    with pytest.raises(MediaError, match="no sidx"):
        read_sidx(b"\x00\x00\x00\x08free", 0)


def mpd(representation: str, adaptation: str = "") -> tuple[object, object, object]:
    text = (
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" minBufferTime="PT2S" mediaPresentationDuration="PT5S">'
        f'<Period><AdaptationSet contentType="video">{adaptation}{representation}'
        "</AdaptationSet></Period></MPD>"
    )
    period = MPEGDASHParser.parse(text).periods[0]
    aset = period.adaptation_sets[0]
    return aset.representations[0], aset, period


def test_segment_base_reads_its_ranges_then_the_sidx_fills_the_segments() -> None:
    rep, aset, period = mpd(
        '<Representation id="v" bandwidth="1"><SegmentBase indexRange="835-914" timescale="15360">'
        '<Initialization range="0-834"/></SegmentBase></Representation>'
    )
    addr = addressing(rep, aset, period, BASE + "v360.mp4", Fraction(5))
    assert addr.mode == "SegmentBase"
    assert addr.init == MediaRef(BASE + "v360.mp4", 0, 834)
    assert addr.index == MediaRef(BASE + "v360.mp4", 835, 914)
    full = with_index(addr, sidx(0, 15360, 0, 0, [(1000, 30720), (800, 46080)]))
    # The sidx (32 bytes of header + 2 x 12 of references = 56) spans 835..890; media follows.
    assert full.segments == [MediaRef(BASE + "v360.mp4", 891, 1890), MediaRef(BASE + "v360.mp4", 1891, 2690)]
    assert full.durations == [Fraction(2), Fraction(3)]


def test_segment_list_urls_and_media_ranges_with_a_timeline() -> None:
    rep, aset, period = mpd(
        '<Representation id="v" bandwidth="1"><SegmentList timescale="1000">'
        '<Initialization sourceURL="all.mp4" range="0-99"/>'
        '<SegmentTimeline><S t="0" d="2000" r="1"/><S d="1000"/></SegmentTimeline>'
        '<SegmentURL media="all.mp4" mediaRange="100-199"/><SegmentURL media="all.mp4" mediaRange="200-299"/>'
        '<SegmentURL media="last.m4s"/></SegmentList></Representation>'
    )
    addr = addressing(rep, aset, period, BASE, Fraction(5))
    assert addr.mode == "SegmentList"
    assert addr.init == MediaRef(BASE + "all.mp4", 0, 99)
    assert addr.segments == [
        MediaRef(BASE + "all.mp4", 100, 199),
        MediaRef(BASE + "all.mp4", 200, 299),
        MediaRef(BASE + "last.m4s"),
    ]
    assert addr.durations == [Fraction(2), Fraction(2), Fraction(1)]


def test_duration_template_counts_to_the_period_end_and_cuts_the_last_segment() -> None:
    # 5 s period, @duration 2 s: ceil(5 / 2) = 3 segments of 2, 2 and 1 s, numbered from 7.
    rep, aset, period = mpd(
        '<Representation id="a" bandwidth="96000"/>',
        '<SegmentTemplate timescale="1000" duration="2000" startNumber="7" presentationTimeOffset="500" '
        'initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number%03d$-$Time$.m4s"/>',
    )
    addr = addressing(rep, aset, period, BASE, Fraction(5))
    assert addr.mode == "@duration"
    assert addr.nominal == Fraction(2)
    assert addr.init == MediaRef(BASE + "a/init.mp4")
    # $Time$ of simple addressing counts from @presentationTimeOffset.
    assert [s.url for s in addr.segments] == [
        BASE + "a/007-500.m4s",
        BASE + "a/008-2500.m4s",
        BASE + "a/009-4500.m4s",
    ]
    assert addr.durations == [Fraction(2), Fraction(2), Fraction(1)]
    assert addr.presentation_time_offset == 500


def test_timeline_repeat_minus_one_runs_to_the_period_end_and_t_includes_the_offset() -> None:
    rep, aset, period = mpd(
        '<Representation id="v" bandwidth="1"><SegmentTemplate timescale="10" presentationTimeOffset="30" '
        'media="$Time$.m4s"><SegmentTimeline><S t="30" d="20" r="-1"/></SegmentTimeline>'
        "</SegmentTemplate></Representation>"
    )
    addr = addressing(rep, aset, period, BASE, Fraction(5))
    assert [s.url for s in addr.segments] == [BASE + f"{t}.m4s" for t in (30, 50, 70)]
    assert addr.durations == [Fraction(2)] * 3  # r="-1" stops at @presentationTimeOffset + 5 s


def test_unaddressable_representations_are_addressing_errors() -> None:
    rep, aset, period = mpd('<Representation id="v" bandwidth="1"/>')
    with pytest.raises(AddressingError, match="no SegmentTemplate, SegmentList or SegmentBase"):
        addressing(rep, aset, period, BASE, Fraction(5))
    with pytest.raises(AddressingError, match="not a byte range"):
        byte_range(BASE, "99-1")


def test_duration_addressing_drift_is_cumulative_and_the_end_is_the_period_end() -> None:
    from player_test.dash import DRIFT, drift

    two = Fraction(2)
    # FFmpeg's AAC under @duration 2 s: 1.962667 s segments (92 frames of 1024 at 48 kHz), the
    # boundaries drift 37.3 ms more each time; the last (4th) ends at 7.850667 s of an 8 s Period.
    seg = Fraction(92 * 1024, 48000)
    starts = [i * seg for i in range(4)]
    worst, at = drift(starts, 4 * seg, two, Fraction(8))
    assert (worst, at) == (8 - 4 * seg, 4)  # 0.149333 s, at the end
    assert worst <= two * DRIFT
    # Segments of 1.4 s under a nominal 2 s: boundary 3 is at 4.2 s against 6 s, 1.8 s off.
    worst, at = drift(
        [Fraction(0), Fraction(7, 5), Fraction(14, 5), Fraction(21, 5)], Fraction(28, 5), two, Fraction(8)
    )
    assert (worst, at) == (Fraction(12, 5), 4)  # the end: 5.6 s against 8 s
    assert worst > two * DRIFT
