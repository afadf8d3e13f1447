from __future__ import annotations

from fractions import Fraction

import pytest

from packager.isobmff.box import box, iter_boxes
from packager.isobmff.fragment import NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS, FileType
from packager.isobmff.movie import SampleEntry, TrackDefaults, TrackHeader
from packager.samples import Sample, fragment_samples
from packager.segmenter import CutPlan, cut_track, init_segment, plan_cuts
from vodpipe.errors import PackagingError

TS = 90_000
HEADER = TrackHeader(1, "vide", TS, "und", SampleEntry("avc1"), TrackDefaults())


def video(frames: int, gop: int, frame_ticks: int = 3000, misalign_at: int | None = None) -> list[Sample]:
    out = []
    for i in range(frames):
        key = i % gop == 0 if i != misalign_at else False
        if misalign_at is not None and i == misalign_at + 1:
            key = True
        flags = SYNC_SAMPLE_FLAGS if key else NON_SYNC_SAMPLE_FLAGS
        out.append(
            Sample(i * frame_ticks, frame_ticks, flags, 3000 if i % 3 else -3000, bytes([i % 256]) * (i + 1))
        )
    return out


def test_plan_groups_two_second_gops_into_four_second_segments() -> None:
    plan = plan_cuts([0, 180_000, 360_000, 540_000, 720_000], TS, Fraction(4))
    assert plan.fragment_starts == (0, 2, 4, 6, 8)
    assert plan.segment_starts == (0, 4, 8)


def test_plan_tolerates_a_keyframe_one_tick_early() -> None:
    plan = plan_cuts([0, 180_000, 359_999, 540_000], TS, Fraction(4))
    assert plan.segment_starts == (0, Fraction(359_999, TS))


def test_plan_with_irregular_gops_never_cuts_short() -> None:
    plan = plan_cuts([0, 90_000, 270_000, 450_000, 500_000], TS, Fraction(4))
    assert plan.segment_starts == (0, Fraction(450_000, TS))


def test_plan_needs_a_keyframe() -> None:
    with pytest.raises(PackagingError, match="no keyframe"):
        plan_cuts([], TS, Fraction(4))


def test_cut_track_round_trips_every_sample() -> None:
    samples = video(300, 60)
    plan = plan_cuts([s.decode_time for s in samples if s.is_sync], TS, Fraction(4))
    out = list(cut_track(iter(samples), plan, TS, 1, video=True, label="v"))
    infos = [info for info, _ in out]
    assert [(i.number, i.start, i.duration, i.sample_count) for i in infos] == [
        (1, 0, 360_000, 120),
        (2, 360_000, 360_000, 120),
        (3, 720_000, 180_000, 60),
    ]
    back: list[Sample] = []
    for info, data in out:
        assert len(data) == info.size
        assert next(iter_boxes(data)).type == "styp"
        moofs = [b.offset for b in iter_boxes(data) if b.type == "moof"]
        assert moofs == [f.offset for f in info.iframes]  # one fragment per GOP
        for frame, end in zip(info.iframes, [*moofs[1:], len(data)], strict=True):
            fragment = fragment_samples(data[frame.offset : end], HEADER)
            back += fragment
            # The I-frame byte range runs from the moof to the keyframe's last byte.
            assert fragment[0].is_sync
            assert data[frame.offset : frame.offset + frame.length].endswith(fragment[0].data)
    assert back == samples


def test_cut_track_refuses_a_rung_whose_keyframes_are_not_aligned() -> None:
    reference = video(300, 60)
    plan = plan_cuts([s.decode_time for s in reference if s.is_sync], TS, Fraction(4))
    with pytest.raises(PackagingError, match=r"video 360p: fragment at 2 s does not start with a keyframe"):
        list(cut_track(iter(video(300, 60, misalign_at=60)), plan, TS, 1, video=True, label="video 360p"))


def test_audio_is_cut_at_the_first_sample_at_or_after_each_instant() -> None:
    audio = [Sample(i * 1024, 1024, SYNC_SAMPLE_FLAGS, 0, b"a") for i in range(470)]
    plan = CutPlan(
        (Fraction(0), Fraction(2), Fraction(4), Fraction(6), Fraction(8)),
        (Fraction(0), Fraction(4), Fraction(8)),
    )
    infos = [info for info, _ in cut_track(iter(audio), plan, 48_000, 2, video=False, label="a")]
    assert [i.start for i in infos] == [0, 188 * 1024, 375 * 1024]  # ceil(4*48000/1024) = 188
    assert sum(i.sample_count for i in infos) == 470
    assert all(i.iframes == () for i in infos)


def test_an_empty_track_is_an_error() -> None:
    with pytest.raises(PackagingError, match="no samples"):
        list(cut_track(iter([]), plan_cuts([0], TS, Fraction(4)), TS, 1, video=True, label="v"))


def test_priming_is_skipped_from_the_segment_times() -> None:
    # AAC with 1024 samples of priming (the init segment's edit list skips them): the first
    # segment presents 1024 ticks less than it holds, and cuts fall on presentation time.
    audio = [Sample(i * 1024, 1024, SYNC_SAMPLE_FLAGS, 0, b"a") for i in range(471)]
    plan = CutPlan((Fraction(0), Fraction(4), Fraction(8)), (Fraction(0), Fraction(4), Fraction(8)))
    cut = list(cut_track(iter(audio), plan, 48_000, 1, video=False, label="a", priming=1024))
    infos = [info for info, _ in cut]
    # presentation time of sample i is (i - 1) * 1024: the first at or after 4 s is i = 189
    assert [(i.start, i.duration, i.sample_count) for i in infos] == [
        (0, 188 * 1024, 189),
        (188 * 1024, 187 * 1024, 187),
        (375 * 1024, 95 * 1024, 95),
    ]
    assert sum(i.duration for i in infos) == 470 * 1024  # what is presented: all but the priming
    first = fragment_samples(cut[0][1][next(iter_boxes(cut[0][1])).size :], HEADER)
    assert first[0].decode_time == 0  # tfdt still counts the priming; the edit list skips it


@pytest.mark.parametrize(
    ("fourcc", "brands"),
    [
        pytest.param("avc1", ("iso6", "cmfc", "dash"), id="avc1"),
        pytest.param("hvc1", ("iso6", "cmfc", "dash"), id="hvc1"),
        # AV1-ISOBMFF §2.1 (av01) and §3 (cav1, a CMAF AV1 track)
        pytest.param("av01", ("iso6", "cmfc", "dash", "av01", "cav1"), id="av01"),
    ],
)
def test_the_cmaf_header_lists_the_codecs_brands(fourcc: str, brands: tuple[str, ...]) -> None:
    moov = box("moov", box("mvhd", b"m"), box("trak", box("tkhd", b"t"), box("mdia", b"")))
    ftyp, rewritten = iter_boxes(init_segment(moov, 0, fourcc))
    assert FileType.parse(ftyp) == FileType("iso6", 0, brands, "ftyp")
    assert bytes(rewritten.payload) == moov[8:]
