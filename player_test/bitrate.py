"""HLS bit rates as RFC 8216bis §4.1 defines them (the checker's own, apart from the packager's).

"The segment bit rate of a Media Segment is the size of the Media Segment divided by its EXTINF
duration. The peak segment bit rate of a Media Playlist is the largest bit rate of any contiguous
set of segments whose total duration is between 0.5 and 1.5 times the target duration. The bit
rate of a set is calculated by dividing the sum of the segment sizes by the sum of the segment
durations. The average segment bit rate of a Media Playlist is the sum of the sizes (in bits) of
every Media Segment in the Media Playlist, divided by the Media Playlist duration."
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from player_test.findings import Severity

# Apple's mediastreamvalidator reports a measured peak more than 10 % above BANDWIDTH as an error.
TOLERANCE = Fraction(11, 10)


def average_bitrate(sizes: Sequence[int], durations: Sequence[Fraction]) -> Fraction:
    """Bits of every segment over the playlist's duration (bits per second)."""
    total = sum(durations, Fraction(0))
    return Fraction(8 * sum(sizes)) / total if total else Fraction(0)


def peak_bitrate(sizes: Sequence[int], durations: Sequence[Fraction], target: Fraction) -> Fraction:
    """The largest bit rate of any contiguous run of segments lasting 0.5 to 1.5 target durations.

    A playlist with no such run (all of it shorter than half the target) has its average as peak.
    """
    if len(sizes) != len(durations):
        raise ValueError(f"{len(sizes)} sizes for {len(durations)} durations")
    low, high = target / 2, target * Fraction(3, 2)
    best: Fraction | None = None
    for first in range(len(sizes)):
        bits, seconds = 0, Fraction(0)
        for size, duration in zip(sizes[first:], durations[first:], strict=True):
            bits += 8 * size
            seconds += duration
            if seconds > high:
                break
            if seconds >= low:
                rate = Fraction(bits) / seconds
                best = rate if best is None or rate > best else best
    return average_bitrate(sizes, durations) if best is None else best


def verdict(declared: int, measured: Fraction) -> tuple[bool, Severity]:
    """(passes, severity): at least the measured rate passes; within 10 % below it is a warning."""
    if declared >= measured:
        return True, "error"
    return False, "warning" if declared * TOLERANCE >= measured else "error"
