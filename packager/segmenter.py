"""CMAF fragments and segments (ISO/IEC 23000-19 §7.3).

Every track is cut at the same instants: one CMAF fragment per closed GOP of the reference
rung, and a segment boundary at the first fragment boundary at least the target duration after
the previous one. Video rungs must have keyframes at those instants (the encoder forces them);
audio is cut at the first sample whose presentation time is at or after each instant.

Times in a :class:`SegmentInfo` are presentation times: decode times less the priming that the
init segment's edit list skips (§7.5.13), so manifests describe what players present.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from packager.isobmff.box import box
from packager.isobmff.edit import skip_edit, with_edit_list
from packager.isobmff.fragment import (
    TFHD_DEFAULT_BASE_IS_MOOF,
    TRUN_COMPOSITION_OFFSET,
    TRUN_DATA_OFFSET,
    TRUN_DURATION,
    TRUN_FLAGS,
    TRUN_SIZE,
    FileType,
    MovieFragmentHeader,
    RunSample,
    TrackFragmentDecodeTime,
    TrackFragmentHeader,
    TrackRun,
)
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from packager.protect import ProtectedRun
    from packager.samples import Sample


class Protector(Protocol):
    """Encrypts a fragment's samples (packager.protect.TrackProtector)."""

    def protect(self, samples: Sequence[Sample], /) -> ProtectedRun: ...


# §7.2: CMAF headers carry 'cmfc'; segments are typed 'cmfs' with the DASH 'msdh' brand.
INIT_TYPE = FileType("iso6", 0, ("iso6", "cmfc", "dash"), "ftyp")
SEGMENT_TYPE = FileType("msdh", 0, ("msdh", "cmfs"), "styp")


@dataclass(frozen=True)
class CutPlan:
    """Instants, in seconds, where fragments and segments start (the first is the track start)."""

    fragment_starts: tuple[Fraction, ...]
    segment_starts: tuple[Fraction, ...]


@dataclass(frozen=True)
class IFrame:
    """A keyframe inside a segment: the byte range from its fragment's moof to its last byte."""

    offset: int
    length: int
    start: int
    duration: int


@dataclass(frozen=True)
class SegmentInfo:
    """A written media segment, as manifests describe it (times in the track's timescale)."""

    number: int
    start: int
    duration: int
    size: int
    sample_count: int
    iframes: tuple[IFrame, ...]


def plan_cuts(keyframes: Iterable[int], timescale: int, target: Fraction) -> CutPlan:
    """Choose segment starts among keyframe decode times: greedy, never shorter than ``target``.

    A tolerance of 10 ms absorbs keyframes that land a tick early from timestamp rounding.
    """
    times = sorted(set(keyframes))
    if not times:
        raise PackagingError("the reference rung has no keyframe")
    fragment_starts = tuple(Fraction(t, timescale) for t in times)
    tolerance = Fraction(1, 100)
    segment_starts = [fragment_starts[0]]
    for t in fragment_starts[1:]:
        if t - segment_starts[-1] >= target - tolerance:
            segment_starts.append(t)
    return CutPlan(fragment_starts, tuple(segment_starts))


# AV1-ISOBMFF §2.1: files with AV1 tracks list 'av01'; §3: a CMAF AV1 track adds 'cav1'.
CODEC_BRANDS = {"av01": ("av01", "cav1")}


def init_segment(moov: bytes, priming: int = 0, fourcc: str = "") -> bytes:
    """A CMAF header: CMAF brands (and the codec's, for sample entry ``fourcc``) in a fresh
    ftyp, then the encoder's moov.

    The trak's edit list is rewritten: with ``priming`` ticks, one edit whose media_time skips
    them (ISO/IEC 14496-12 §8.6.6, CMAF §7.5.13 b), as Shaka Packager writes it for AAC;
    without, none.
    """
    brands = INIT_TYPE.compatible_brands + CODEC_BRANDS.get(fourcc, ())
    ftyp = replace(INIT_TYPE, compatible_brands=brands)
    return ftyp.to_bytes() + with_edit_list(moov, skip_edit(priming) if priming else None)


def _fragment(
    track_id: int, sequence: int, samples: list[Sample], video: bool, protector: Protector | None = None
) -> tuple[bytes, int]:
    """One moof + mdat; returns the bytes and the offset of the first sample's data.

    With a ``protector`` the samples are encrypted (same sizes) and the traf gains its
    saiz/saio/senc after the trun; the trun's data offset counts the grown moof.
    """
    flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS
    if video:
        flags |= TRUN_COMPOSITION_OFFSET
    entries = tuple(
        RunSample(s.duration, len(s.data), s.flags, s.composition_offset if video else None) for s in samples
    )
    protected = protector.protect(samples) if protector is not None else None
    payload = protected.data if protected is not None else [s.data for s in samples]
    mfhd = MovieFragmentHeader(sequence).to_bytes()

    def moof(data_offset: int) -> bytes:
        head = (
            TrackFragmentHeader(track_id, TFHD_DEFAULT_BASE_IS_MOOF).to_bytes()
            + TrackFragmentDecodeTime(samples[0].decode_time).to_bytes()
            + TrackRun(entries, flags, data_offset=data_offset, version=1).to_bytes()
        )
        aux = protected.boxes(8 + len(mfhd) + 8 + len(head)) if protected is not None else b""
        return box("moof", mfhd, box("traf", head, aux))

    size = len(moof(0))  # the offset's value does not change the moof's size
    data_offset = size + 8  # §8.8.8: relative to the moof's first byte; mdat header is 8 bytes
    return moof(data_offset) + box("mdat", *payload), data_offset


def _ticks(instant: Fraction, timescale: int) -> int:
    """The first tick at or after ``instant``."""
    value = instant * timescale
    return value.numerator // value.denominator + (value.denominator != 1)


def cut_track(
    samples: Iterable[Sample],
    plan: CutPlan,
    timescale: int,
    track_id: int,
    *,
    video: bool,
    label: str,
    priming: int = 0,
    protector: Protector | None = None,
) -> Iterator[tuple[SegmentInfo, bytes]]:
    """Regroup a track's samples into CMAF segments, each ``styp`` then one fragment per GOP.

    ``priming`` is the edit list's media_time: samples are placed by their decode time less it,
    and the first segment's presented part starts at 0.
    """
    fragment_ticks = [_ticks(t, timescale) for t in plan.fragment_starts[1:]]
    segment_ticks = {_ticks(t, timescale) for t in plan.segment_starts[1:]}
    sequence = 0
    number = 0
    current: list[tuple[bytes, int, Sample]] = []  # fragment bytes, data offset, first sample
    pending: list[Sample] = []
    next_cut = 0

    def close_fragment() -> None:
        nonlocal sequence
        if not pending:
            return
        first = pending[0]
        if video and not first.is_sync:
            raise PackagingError(
                f"{label}: fragment at {Fraction(first.decode_time, timescale)} s does not start "
                "with a keyframe (keyframes are not aligned with the reference rung)"
            )
        sequence += 1
        data, data_offset = _fragment(track_id, sequence, pending, video, protector)
        current.append((data, data_offset, first))
        pending.clear()

    def close_segment(end: int, sample_count: int) -> tuple[SegmentInfo, bytes]:
        nonlocal number
        number += 1
        out = bytearray(SEGMENT_TYPE.to_bytes())
        iframes = []
        for i, (data, data_offset, first) in enumerate(current):
            nxt = current[i + 1][2].decode_time if i + 1 < len(current) else end
            frame_start = max(0, first.decode_time - priming)
            iframes.append(
                IFrame(len(out), data_offset + len(first.data), frame_start, nxt - priming - frame_start)
            )
            out += data
        start = max(0, current[0][2].decode_time - priming)
        kept = tuple(iframes) if video else ()
        current.clear()
        return SegmentInfo(number, start, end - priming - start, len(out), sample_count, kept), bytes(out)

    end = 0
    sample_total = 0
    segment_samples = 0
    for sample in samples:
        while next_cut < len(fragment_ticks) and sample.decode_time - priming >= fragment_ticks[next_cut]:
            boundary = fragment_ticks[next_cut]
            next_cut += 1
            if not pending:
                continue
            close_fragment()
            if boundary in segment_ticks:
                yield close_segment(sample.decode_time, segment_samples)
                segment_samples = 0
        pending.append(sample)
        segment_samples += 1
        sample_total += 1
        end = sample.decode_time + sample.duration
    if not sample_total:
        raise PackagingError(f"{label}: the rendition has no samples")
    close_fragment()
    yield close_segment(end, segment_samples)
