"""The bit rate definitions on hand-made segment lists, each expected value worked out here."""

from __future__ import annotations

from fractions import Fraction

import pytest

from packager.bitrate import Sized, average_segment_bitrate, dash_bandwidth, peak_segment_bitrate

# Two full 4 s segments of 2 MB (4 Mb/s each) and a dense 0.5 s tail of 400 kB (6.4 Mb/s alone).
SHORT_TAIL = (Sized(2_000_000, Fraction(4)), Sized(2_000_000, Fraction(4)), Sized(400_000, Fraction(1, 2)))


def test_a_short_last_segment_counts_only_with_its_neighbour() -> None:
    # Target 4 s: sets must last 2 to 6 s. The tail alone (0.5 s) is no such set; 1+2 (8 s) is
    # too long. Candidates: seg 1 = 16 Mbit / 4 s = 4 Mb/s, seg 2 = 4 Mb/s,
    # seg 2+3 = (16 + 3.2) Mbit / 4.5 s = 4,266,666.67 b/s, rounded up.
    assert peak_segment_bitrate(SHORT_TAIL, 4) == 4_266_667
    # The old rule, each segment alone, said 6.4 Mb/s: the tail's 3.2 Mbit / 0.5 s.
    assert max(8 * s.size / s.duration for s in SHORT_TAIL) == 6_400_000


@pytest.mark.parametrize(
    ("segments", "target", "expected"),
    [
        # exactly half the target duration is "between 0.5 and 1.5 times": 8 Mbit / 2 s
        pytest.param((Sized(1_000_000, Fraction(2)),), 4, 4_000_000, id="half-target-included"),
        # 3 s + 3 s = 6 s = 1.5 x 4 s is included: (6 + 12) Mbit / 6 s = 3 Mb/s beats 2 Mb/s alone
        pytest.param(
            (Sized(750_000, Fraction(3)), Sized(1_500_000, Fraction(3)), Sized(10, Fraction(3))),
            4,
            4_000_000,
            id="one-and-a-half-target-included",
        ),
        # a 1 s title with a 4 s target has no 2-6 s set: the whole playlist, 0.8 Mbit / 1 s
        pytest.param((Sized(100_000, Fraction(1)),), 4, 800_000, id="shorter-than-half-target"),
        # 1 s segments, target 1: sets of 0.5-1.5 s are single segments; the largest is 16 Mb/s
        pytest.param(
            (Sized(1_000_000, Fraction(1)), Sized(2_000_000, Fraction(1))), 1, 16_000_000, id="target-one"
        ),
    ],
)
def test_peak_segment_bitrate_edges(segments: tuple[Sized, ...], target: int, expected: int) -> None:
    assert peak_segment_bitrate(segments, target) == expected


def test_one_and_a_half_target_case_is_the_pair() -> None:
    # the middle segment alone is 12 Mbit / 3 s = 4 Mb/s, the pair (6 + 12) / 6 = 3 Mb/s,
    # the last pair (12 Mbit + 80 bit) / 6 s: 4 Mb/s stands as the largest
    segments = (Sized(750_000, Fraction(3)), Sized(1_500_000, Fraction(3)))
    assert peak_segment_bitrate(segments, 4) == 4_000_000


def test_average_is_every_bit_over_the_playlist_duration() -> None:
    # (16 + 16 + 3.2) Mbit / 8.5 s = 4,141,176.47 b/s, rounded up
    assert average_segment_bitrate(SHORT_TAIL) == 4_141_177


def arrives_in_time(segments: tuple[Sized, ...], rate: int, min_buffer: Fraction) -> bool:
    """§5.3.5.2 played out: from every SAP, each segment is whole before its playout starts."""
    for first in range(len(segments)):
        received = Fraction(0)
        playout = min_buffer
        for segment in segments[first:]:
            received += Fraction(8 * segment.size, rate)
            if received > playout:
                return False
            playout += segment.duration
    return True


EVEN = (Sized(2_000_000, Fraction(4)), Sized(1_000_000, Fraction(4)), Sized(3_000_000, Fraction(4)))


@pytest.mark.parametrize(
    ("segments", "min_buffer", "expected"),
    [
        # minBufferTime 4 s: started at the last SAP, 24 Mbit must arrive within 4 s: 6 Mb/s
        pytest.param(EVEN, Fraction(4), 6_000_000, id="start-at-the-heavy-segment"),
        # 8 s of buffer: that start needs 24/8 = 3 Mb/s, the whole title 48 Mbit by 8+4+4 s = 3 Mb/s
        pytest.param(EVEN, Fraction(8), 3_000_000, id="longer-buffer"),
        # the short tail starts 3.2 Mbit / 4 s = 0.8 Mb/s; the first segment alone needs 16/4
        pytest.param(SHORT_TAIL, Fraction(4), 4_000_000, id="short-tail-is-not-a-peak"),
        # a buffer of 4.010667 s (PT4.010667S): the first segment alone needs 16 Mbit / 4.010667 s
        # = 3,989,361.4 b/s, but the first two need 32 Mbit by 4.010667 + 4 s = 3,994,673.7 b/s
        pytest.param(SHORT_TAIL, Fraction("4.010667"), 3_994_674, id="microsecond-buffer"),
    ],
)
def test_dash_bandwidth_is_the_smallest_rate_the_buffer_model_passes(
    segments: tuple[Sized, ...], min_buffer: Fraction, expected: int
) -> None:
    assert dash_bandwidth(segments, min_buffer) == expected
    assert arrives_in_time(segments, expected, min_buffer)
    assert not arrives_in_time(segments, expected - 1, min_buffer)


def test_empty_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="without segments"):
        peak_segment_bitrate((), 4)
    with pytest.raises(ValueError, match="minBufferTime must be positive"):
        dash_bandwidth(EVEN, Fraction(0))
