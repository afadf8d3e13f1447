"""Bit rates as the specifications define them: HLS BANDWIDTH / AVERAGE-BANDWIDTH, DASH @bandwidth.

Pure functions over a track's segments, each a size in bytes and a duration in seconds. Every
result is rounded up to a whole bit per second, so the value declared never understates the
definition it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Sized:
    """A segment as bit rates see it: bytes on the wire and presentation duration in seconds."""

    size: int
    duration: Fraction


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _rate(segments: Sequence[Sized]) -> Fraction:
    return Fraction(8 * sum(s.size for s in segments)) / sum((s.duration for s in segments), Fraction(0))


def peak_segment_bitrate(segments: Sequence[Sized], target_duration: int) -> int:
    """RFC 8216bis §4.4.6.2 (EXT-X-STREAM-INF BANDWIDTH), "peak segment bit rate":

    "the largest bit rate of any contiguous set of segments whose total duration is between 0.5
    and 1.5 times the target duration. The bit rate of a set is calculated by dividing the sum of
    the segment sizes by the sum of the segment durations." A short last segment therefore
    counts only together with its neighbour. A playlist shorter than half the target duration
    has no such set; its one set, the whole playlist, is used.
    """
    if not segments:
        raise ValueError("a playlist without segments has no bit rate")
    low, high = Fraction(target_duration, 2), Fraction(3 * target_duration, 2)
    best: Fraction | None = None
    for first in range(len(segments)):
        bits = 0
        duration = Fraction(0)
        for segment in segments[first:]:
            bits += 8 * segment.size
            duration += segment.duration
            if duration > high:
                break
            if duration >= low and (best is None or bits / duration > best):
                best = bits / duration
    return _ceil(best if best is not None else _rate(segments))


def average_segment_bitrate(segments: Sequence[Sized]) -> int:
    """RFC 8216bis §4.4.6.2 (AVERAGE-BANDWIDTH), "average segment bit rate": the sum of the sizes
    (in bits) of every segment divided by the playlist's duration.
    """
    if not segments:
        raise ValueError("a playlist without segments has no bit rate")
    return _ceil(_rate(segments))


def dash_bandwidth(segments: Sequence[Sized], min_buffer_time: Fraction) -> int:
    """ISO/IEC 23009-1 §5.3.5.2, @bandwidth: the smallest rate of a hypothetical constant bit rate
    channel over which the Representation, delivered from any SAP (every segment starts with one
    here), plays without a stall once @minBufferTime of it has been received.

    Delivery starts at segment ``i`` at time 0 and playout at ``min_buffer_time``; each segment
    ``k`` must have arrived whole when its playout starts, at ``min_buffer_time`` plus the
    durations of segments ``i..k-1``. So the rate must be at least
    ``bits(i..k) / (min_buffer_time + duration(i..k-1))`` for every ``i <= k``; the largest of
    these is the answer. Integer arithmetic on a common denominator keeps it exact and fast.
    """
    if not segments:
        raise ValueError("a representation without segments has no bandwidth")
    if min_buffer_time <= 0:
        raise ValueError("minBufferTime must be positive")
    scale = math.lcm(min_buffer_time.denominator, *(s.duration.denominator for s in segments))
    buffer = int(min_buffer_time * scale)
    ticks = [int(s.duration * scale) for s in segments]
    best_bits, best_time = 0, 1
    for first in range(len(segments)):
        bits, elapsed = 0, buffer
        for k in range(first, len(segments)):
            bits += 8 * segments[k].size
            if bits * best_time > best_bits * elapsed:
                best_bits, best_time = bits, elapsed
            elapsed += ticks[k]
    return _ceil(Fraction(best_bits * scale, best_time))
