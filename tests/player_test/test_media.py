"""The checker's own ISO-BMFF timing: edit lists, earliest presentation time, presented durations."""

from __future__ import annotations

import struct
from fractions import Fraction

import pytest

from packager.isobmff.box import box, full_box
from player_test.check import sync_severity, unremoved_priming
from player_test.fetch import MediaRef
from player_test.media import InitInfo, SegmentTiming, _av1c_codec, _hvcc_codec, read_edit_list, read_segment
from player_test.tracks import Measured, Track, tolerance

AUDIO = InitInfo("audio", "mp4a.40.2", 48000, 0, 0, 1024, 0, ())


def elst(version: int, *entries: tuple[int, int]) -> bytes:
    layout = ">Qq" if version == 1 else ">Ii"
    body = b"".join(struct.pack(layout, d, t) + struct.pack(">hh", 1, 0) for d, t in entries)
    return box("edts", full_box("elst", version, 0, struct.pack(">I", len(entries)), body))


@pytest.mark.parametrize("version", [0, 1])
def test_edit_list_skip_and_empty_edit_delay(version: int) -> None:
    # An empty edit of 0.5 s in a 1000 Hz movie timescale, then media from tick 1024 (AAC priming).
    trak = elst(version, (500, -1), (0, 1024))
    assert read_edit_list(trak, (0, len(trak)), 1000, 48000) == (24000, 1024, True)


def test_no_edit_list_is_no_shift() -> None:
    trak = box("tkhd", b"\0" * 84)
    assert read_edit_list(trak, (0, len(trak)), 1000, 48000) == (0, 0, False)


def moof(base: int, samples: list[tuple[int, int]], version: int = 1) -> bytes:
    """One traf: tfdt ``base``, a trun of (duration, composition offset) samples."""
    tfhd = full_box("tfhd", 0, 0x020000, struct.pack(">I", 1))
    tfdt = full_box("tfdt", 1, 0, struct.pack(">Q", base))
    rows = b"".join(struct.pack(">Ii" if version else ">II", d, c) for d, c in samples)
    trun = full_box("trun", version, 0x000900, struct.pack(">I", len(samples)), rows)
    return box("moof", box("traf", tfhd, tfdt, trun))


def test_earliest_presentation_time_takes_signed_composition_offsets() -> None:
    # I P B B: decode 0,512,1024,1536 + offsets 0,1024,-512,-512 -> presented 0,1536,512,1024
    data = moof(6000, [(512, 0), (512, 1024), (512, -512), (512, -512)])
    timing = read_segment(data, AUDIO)
    assert (timing.start, timing.duration, timing.samples) == (6000, 2048, 4)
    assert timing.earliest == 6000
    # Shifted by a B-frame delay of 1024 as FFmpeg writes without negative offsets (trun v0).
    later = read_segment(moof(6000, [(512, 1024), (512, 2048), (512, 512), (512, 512)], 0), AUDIO)
    assert later.earliest == 6000 + 512 + 512


def measured(init: InitInfo, timings: list[SegmentTiming], pto: int = 0) -> Measured:
    refs = [MediaRef(f"s{i}") for i in range(len(timings))]
    track = Track("a", init.kind, "p", MediaRef("i"), refs, [], presentation_time_offset=pto)
    return Measured(track, init, b"", timings, [b"x" * 1000] * len(timings))


def test_priming_cut_by_the_edit_list_gives_shaka_packagers_first_segment_duration() -> None:
    # Shaka Packager: 4.032 s of AAC media per segment (189 frames), 1024 priming samples cut by
    # elst media_time. The first segment presents 193536 - 1024 = 192512 ticks = 4.010667 s.
    init = InitInfo("audio", "mp4a.40.2", 48000, 0, 0, 1024, 0, (), edit_skip=1024, has_edit_list=True)
    timings = [
        SegmentTiming(0, 193536, 189, True, 0, 1024),
        SegmentTiming(193536, 193536, 189, True, 193536, 1024),
    ]
    m = measured(init, timings)
    assert m.durations == [Fraction(192512, 48000), Fraction(193536, 48000)]
    assert abs(m.durations[0] - Fraction("4.010667")) < Fraction(1, 10**6)
    assert m.start == 0
    assert m.presentation(1) == (Fraction(192512, 48000), Fraction(387072 - 1024, 48000))
    # Without the edit list the same segment lasts 4.032 s: 21.3 ms more than declared, within one
    # AAC frame; the presentation is 1024 samples late throughout.
    plain = measured(AUDIO, timings)
    assert plain.durations[0] == Fraction(4032, 1000)
    assert plain.presentation(1)[0] - m.presentation(1)[0] == Fraction(1024, 48000)


def test_presentation_time_offset_and_empty_edit_shift_the_timeline() -> None:
    init = InitInfo("video", "avc1.64001e", 90000, 640, 360, 3000, 0, (), edit_delay=9000)
    m = measured(init, [SegmentTiming(900000, 180000, 60, True, 903000, 3000)], pto=900000)
    assert m.presentation(0) == (
        Fraction(903000 - 900000 + 9000, 90000),
        Fraction(903000 + 180000 - 900000 + 9000, 90000),
    )


@pytest.mark.parametrize(
    ("kind", "frame", "allowed"),
    [("video", 3000, Fraction(1, 60)), ("audio", 1024, Fraction(1024, 90000))],
    ids=["half-a-video-frame", "one-audio-frame"],
)
def test_duration_tolerance(kind: str, frame: int, allowed: Fraction) -> None:
    init = InitInfo(kind, "x", 90000, 0, 0, frame, 0, ())
    assert tolerance(init, SegmentTiming(0, frame * 10, 10, True, 0, frame)) == allowed


@pytest.mark.parametrize(
    ("offset_ms", "expected"),
    [(0, (True, "error")), (5, (True, "error")), (-5, (True, "error")), (21.3, (False, "warning")),
     (-40, (False, "warning")), (-41, (False, "error")), (60, (False, "warning")), (61, (False, "error"))],
    ids=["exact", "5ms-late", "5ms-early", "aac-priming", "40-early", "41-early", "60-late", "61-late"],
)  # fmt: skip
def test_avsync_severity_follows_ebu_r37(offset_ms: float, expected: tuple[bool, str]) -> None:
    # EBU R37: audio at most 40 ms early and 60 ms late; more than 5 ms either way is a warning.
    assert sync_severity(Fraction(str(offset_ms)) / 1000) == expected


def test_aac_priming_left_in_is_the_encoder_delay() -> None:
    video_init = InitInfo("video", "avc1.64001e", 90000, 640, 360, 3000, 0, ())
    video = measured(video_init, [SegmentTiming(0, 720000, 240, True, 0, 3000)])  # 8 s
    old = InitInfo("audio", "mp4a.40.2", 48000, 0, 0, 1024, 0, (), sample_rate=48000)
    audio = measured(old, [SegmentTiming(0, 385024, 376, True, 0, 1024)])  # 376 frames: 8.021 s
    audio.init_bytes = b"moov"
    assert unremoved_priming(audio, video) == Fraction(1024, 48000)
    skipped = InitInfo("audio", "mp4a.40.2", 48000, 0, 0, 1024, 0, (), edit_skip=1024, has_edit_list=True)
    fixed = measured(skipped, [SegmentTiming(0, 385024, 376, True, 0, 1024)])
    fixed.init_bytes = b"moov"
    assert unremoved_priming(fixed, video) == 0
    assert fixed.end - video.end == 0  # the edit list brings the audio's end to the video's


@pytest.mark.parametrize(
    ("hvcc", "expected"),
    [
        pytest.param("012220000000b0000000000078", "hev1.2.4.H120.B0", id="main10-high-tier"),
        pytest.param("01440800000098080000000099", "hev1.A4.10.L153.98.08", id="profile-space-A"),
        pytest.param("0101600000000000000000003c", "hev1.1.6.L60.00", id="no-constraint-flags"),
    ],
)
def test_hevc_codec_from_hvcc(hvcc: str, expected: str) -> None:
    assert _hvcc_codec("hev1", bytes.fromhex(hvcc)) == expected


@pytest.mark.parametrize(
    ("av1c", "colr", "expected"),
    [
        pytest.param("810dcc00", "", "av01.0.13H.10", id="high-tier-10bit"),
        pytest.param("814d6000", "", "av01.2.13M.12.0.000.01.01.01.0", id="12bit-444"),
        pytest.param("81084c00", "6e636c7800090010000900", "av01.0.08M.10.0.110.09.16.09.0", id="hdr10"),
        pytest.param("81080c00", "6e636c7800020002000200", "av01.0.08M.08", id="unspecified-colour"),
    ],
)
def test_av1_codec_from_av1c(av1c: str, colr: str, expected: str) -> None:
    assert _av1c_codec(bytes.fromhex(av1c), bytes.fromhex(colr)) == expected
