"""DASH ``@bandwidth`` as ISO/IEC 23009-1 §5.3.5.2 defines it: a hypothetical constant-bit-rate channel.

"Consider a hypothetical constant bitrate channel of bandwidth with the value of this attribute in
bits per second (bps). Then, if the Representation is continuously delivered at this bitrate,
starting at any SAP that is indicated either by @startWithSAP or by any Segment Index box, a client
can be assured of having enough data for continuous playout providing playout begins after
@minBufferTime * @bandwidth bits have been received (i.e. at time @minBufferTime after the first bit
is received)."

A player appends whole segments (MSE), so "enough data" is read at segment granularity: each
segment must have arrived completely by the time its presentation starts. Every segment of a
conforming Representation starts with a SAP, so delivery may start at any of them.

The checker's own reading, apart from the packager's (as for boxes and HLS bit rates).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def _validate(sizes: Sequence[int], durations: Sequence[Fraction], min_buffer_time: Fraction) -> None:
    if len(sizes) != len(durations):
        raise ValueError(f"{len(sizes)} sizes for {len(durations)} durations")
    if min_buffer_time <= 0:
        raise ValueError(f"@minBufferTime must be positive, not {min_buffer_time}")


def plays_without_stall(
    bandwidth: Fraction | int, sizes: Sequence[int], durations: Sequence[Fraction], min_buffer_time: Fraction
) -> bool:
    """The definition run as a simulation: from every SAP, does every segment arrive in time?

    Delivery starts at time 0 at segment ``first``; playout starts at @minBufferTime; segment ``i``
    is presented from @minBufferTime + (duration of segments first..i-1) and must be whole by then.
    """
    _validate(sizes, durations, min_buffer_time)
    if bandwidth <= 0:
        return not sizes
    for first in range(len(sizes)):
        arrived = Fraction(0)  # when the last bit of the current segment has been received
        playout = min_buffer_time  # when the current segment starts playing
        for size, duration in zip(sizes[first:], durations[first:], strict=True):
            arrived += Fraction(8 * size) / Fraction(bandwidth)
            if arrived > playout:
                return False
            playout += duration
    return True


def minimal_bandwidth(
    sizes: Sequence[int], durations: Sequence[Fraction], min_buffer_time: Fraction
) -> Fraction:
    """The smallest @bandwidth (bits/s) with which the Representation plays without a stall.

    From the condition above, delivery starting at segment k needs, for every i >= k,
    bits(k..i) / B <= @minBufferTime + duration(k..i-1); so B is the largest
    bits(k..i) / (@minBufferTime + duration(k..i-1)) over all pairs k <= i (a closed form).
    """
    _validate(sizes, durations, min_buffer_time)
    # The O(n^2) search runs on floats (an hour of 2 s segments is 1.6 M pairs); the winning pair
    # is then computed exactly.
    seconds = [float(d) for d in durations]
    buffer = float(min_buffer_time)
    best, pair = -1.0, (0, -1)
    for first in range(len(sizes)):
        bits, before = 0, 0.0
        for i in range(first, len(sizes)):
            bits += 8 * sizes[i]
            rate = bits / (buffer + before)
            if rate > best:
                best, pair = rate, (first, i)
            before += seconds[i]
    first, last = pair
    bits = 8 * sum(sizes[first : last + 1])
    return Fraction(bits) / (min_buffer_time + sum(durations[first:last], Fraction(0)))
