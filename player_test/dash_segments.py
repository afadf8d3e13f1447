"""DASH segment addressing (ISO/IEC 23009-1 §5.3.9): every mode turned into byte-ranged references.

- SegmentTemplate with a SegmentTimeline (explicit addressing) or with @duration (simple addressing);
- SegmentList: SegmentURL @media/@mediaRange, Initialization @sourceURL/@range;
- SegmentBase: the Initialization @range and the sidx at @indexRange, whose references give each
  subsegment's byte range and duration (filled in by ``with_index`` once the index is fetched).

Only the element at the lowest level is used (Representation, then AdaptationSet, then Period):
attribute-by-attribute inheritance between levels is not merged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any
from urllib.parse import urljoin

from player_test.fetch import MediaRef
from player_test.sidx import read_sidx

_TEMPLATE = re.compile(r"\$(RepresentationID|Number|Time|Bandwidth)(%0(\d+)d)?\$")
_RANGE = re.compile(r"\s*(\d+)\s*-\s*(\d+)\s*")


class AddressingError(ValueError):
    """A segment description that cannot be turned into references."""


@dataclass(frozen=True)
class Addressing:
    mode: str  # "SegmentTimeline", "@duration", "SegmentList", "SegmentBase"
    init: MediaRef | None
    segments: list[MediaRef]
    durations: list[Fraction]  # as the MPD (or the sidx) declares them, seconds
    timescale: int
    presentation_time_offset: int = 0  # @presentationTimeOffset, in @timescale ticks
    nominal: Fraction | None = None  # @duration in seconds (simple addressing): drift, not each duration
    index: MediaRef | None = None  # SegmentBase: the sidx still to fetch


def fill(template: str, rep_id: str, bandwidth: int, number: int = 0, time: int = 0) -> str:
    """ISO/IEC 23009-1 §5.3.9.4.4 identifiers, with the optional %0Nd width."""

    def one(match: re.Match[str]) -> str:
        value: Any = {"RepresentationID": rep_id, "Number": number, "Time": time, "Bandwidth": bandwidth}[
            match.group(1)
        ]
        width = match.group(3)
        return f"{int(value):0{int(width)}d}" if width else str(value)

    return _TEMPLATE.sub(one, template).replace("$$", "$")


def byte_range(url: str, value: str | None) -> MediaRef:
    """A URL with an optional "first-last" byte range (§5.3.9.5.3, RFC 9110 byte-range-spec)."""
    if value is None:
        return MediaRef(url)
    match = _RANGE.fullmatch(value)
    if match is None or int(match.group(1)) > int(match.group(2)):
        raise AddressingError(f"not a byte range: {value!r}")
    return MediaRef(url, int(match.group(1)), int(match.group(2)))


def _timeline(element: Any, timescale: int, total: Fraction, pto: int) -> list[tuple[int, int]]:
    """(start, duration) in ticks of every S of a SegmentTimeline, repeats expanded (§5.3.9.6).

    Timeline times count from @presentationTimeOffset, so the period ends at pto + duration.
    """
    out: list[tuple[int, int]] = []
    t = 0
    entries = element.segment_timelines[0].Ss or []
    for i, s in enumerate(entries):
        t = s.t if s.t is not None else t
        if not s.d:
            raise AddressingError("a SegmentTimeline S has no @d")
        repeat = s.r or 0
        if repeat < 0:  # -1: until the next S's @t, or the end of the period
            following = entries[i + 1].t if i + 1 < len(entries) and entries[i + 1].t is not None else None
            end = following if following is not None else pto + total * timescale
            repeat = math.ceil((end - t) / s.d) - 1
        for _ in range(repeat + 1):
            out.append((t, s.d))
            t += s.d
    return out


def _simple(duration: int, timescale: int, total: Fraction) -> list[tuple[int, int]]:
    """@duration addressing: ceil(period / @duration) segments, the last cut by the period's end."""
    count = math.ceil(total * timescale / duration)
    return [(i * duration, min(duration, math.ceil(total * timescale) - i * duration)) for i in range(count)]


def _times(element: Any, timescale: int, total: Fraction) -> tuple[str, list[tuple[int, int]]]:
    if element.segment_timelines:
        return "SegmentTimeline", _timeline(element, timescale, total, element.presentation_time_offset or 0)
    if element.duration:
        if not total:
            raise AddressingError("@duration addressing needs the Period's or presentation's duration")
        return "@duration", _simple(element.duration, timescale, total)
    raise AddressingError("neither a SegmentTimeline nor @duration")


def _template(template: Any, rep: Any, base: str, total: Fraction) -> Addressing:
    timescale = template.timescale or 1
    number = template.start_number if template.start_number is not None else 1
    pto = template.presentation_time_offset or 0
    if not template.media:
        raise AddressingError("SegmentTemplate has no @media")
    mode, times = _times(template, timescale, total)
    # A timeline's @t already counts from @presentationTimeOffset; simple addressing's do not.
    offset = pto if mode == "@duration" else 0
    segments = [
        MediaRef(urljoin(base, fill(template.media, rep.id, rep.bandwidth, number + i, t + offset)))
        for i, (t, _) in enumerate(times)
    ]
    init = None
    if template.initialization:
        init = MediaRef(urljoin(base, fill(template.initialization, rep.id, rep.bandwidth)))
    elif template.initializations:
        first = template.initializations[0]
        init = byte_range(urljoin(base, first.source_url or ""), first.range)
    return _build(mode, init, segments, times, timescale, pto, template.duration)


def _build(
    mode: str,
    init: MediaRef | None,
    segments: list[MediaRef],
    times: list[tuple[int, int]],
    timescale: int,
    pto: int,
    duration: int | None,
) -> Addressing:
    return Addressing(
        mode,
        init,
        segments,
        [Fraction(d, timescale) for _, d in times],
        timescale,
        pto,
        Fraction(duration, timescale) if mode == "@duration" and duration else None,
    )


def _segment_list(slist: Any, base: str, total: Fraction) -> Addressing:
    timescale = slist.timescale or 1
    pto = slist.presentation_time_offset or 0
    urls = slist.segment_urls or []
    segments = [byte_range(urljoin(base, u.media or ""), u.media_range) for u in urls]
    mode, times = _times(slist, timescale, total)
    if mode == "@duration":
        times = [(i * slist.duration, d) for i, (_, d) in enumerate(times)][: len(segments)]
    if len(times) != len(segments):
        raise AddressingError(f"SegmentList has {len(segments)} SegmentURLs for {len(times)} durations")
    init = None
    if slist.initializations:
        first = slist.initializations[0]
        init = byte_range(urljoin(base, first.source_url or ""), first.range)
    return replace(_build(mode, init, segments, times, timescale, pto, slist.duration), mode="SegmentList")


def _segment_base(sbase: Any, base: str) -> Addressing:
    if not sbase.index_range:
        raise AddressingError("SegmentBase has no @indexRange")
    init = None
    if sbase.initializations:
        first = sbase.initializations[0]
        init = byte_range(urljoin(base, first.source_url or base), first.range)
    return Addressing(
        "SegmentBase",
        init,
        [],
        [],
        sbase.timescale or 1,
        sbase.presentation_time_offset or 0,
        index=byte_range(base, sbase.index_range),
    )


def with_index(addressing: Addressing, data: bytes) -> Addressing:
    """A SegmentBase addressing completed from its sidx (the bytes of @indexRange)."""
    assert addressing.index is not None
    assert addressing.index.first is not None
    index = read_sidx(data, addressing.index.first)
    url = addressing.index.url
    return replace(
        addressing,
        segments=[MediaRef(url, sub.first, sub.last) for sub in index.subsegments],
        durations=[sub.duration for sub in index.subsegments],
    )


def _first(*nodes: Any) -> Any:
    for node in nodes:
        if node:
            return node[0]
    return None


def addressing(rep: Any, aset: Any, period: Any, base: str, total: Fraction) -> Addressing:
    """How one Representation's segments are addressed, from the lowest level that says."""
    levels = (rep, aset, period)
    template = _first(*(getattr(level, "segment_templates", None) for level in levels))
    if template is not None:
        return _template(template, rep, base, total)
    slist = _first(*(getattr(level, "segment_lists", None) for level in levels))
    if slist is not None:
        return _segment_list(slist, base, total)
    sbase = _first(*(getattr(level, "segment_bases", None) for level in levels))
    if sbase is not None:
        return _segment_base(sbase, base)
    raise AddressingError("no SegmentTemplate, SegmentList or SegmentBase")
