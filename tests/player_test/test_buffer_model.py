"""The DASH @bandwidth buffer model (ISO/IEC 23009-1 §5.3.5.2) on hand-made segment sizes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from player_test.bitrate import verdict
from player_test.buffer_model import minimal_bandwidth, plays_without_stall

TWO = [Fraction(2)] * 3  # three 2 s segments


def test_constant_segments_need_their_own_bit_rate() -> None:
    # 100 000 bytes = 800 000 bits per 2 s segment, @minBufferTime 2 s. From segment 0:
    #   seg 0: 800 000 / (2)         = 400 000
    #   seg 1: 1 600 000 / (2 + 2)   = 400 000
    #   seg 2: 2 400 000 / (2 + 4)   = 400 000   -> 400 kb/s, the plain bit rate.
    sizes = [100_000] * 3
    assert minimal_bandwidth(sizes, TWO, Fraction(2)) == 400_000
    assert plays_without_stall(400_000, sizes, TWO, Fraction(2))
    assert not plays_without_stall(399_999, sizes, TWO, Fraction(2))


def test_a_peak_counts_from_the_sap_where_delivery_starts() -> None:
    # 50 000, 200 000, 50 000 bytes = 400 000, 1 600 000, 400 000 bits; 2 s each; buffer 2 s.
    # Starting at segment 0: 400k/2 = 200k, 2.0M/4 = 500k, 2.4M/6 = 400k   -> 500 kb/s.
    # Starting at segment 1 (a SAP too): 1.6M/2 = 800k, 2.0M/4 = 500k      -> 800 kb/s.
    # Starting at segment 2: 400k/2 = 200k.                                 So 800 kb/s.
    sizes = [50_000, 200_000, 50_000]
    assert minimal_bandwidth(sizes, TWO, Fraction(2)) == 800_000
    assert plays_without_stall(800_000, sizes, TWO, Fraction(2))
    assert not plays_without_stall(799_999, sizes, TWO, Fraction(2))
    # A reading that starts delivery only at segment 0 would accept 500 kb/s, and stall a player
    # that seeks to 2 s:
    assert not plays_without_stall(500_000, sizes, TWO, Fraction(2))


def test_a_longer_min_buffer_time_absorbs_the_peak() -> None:
    # Same sizes, buffer 4 s. From 0: 400k/4 = 100k, 2.0M/6 = 333 333.3, 2.4M/8 = 300k.
    # From 1: 1.6M/4 = 400k, 2.0M/6 = 333 333.3. From 2: 400k/4 = 100k.       -> 400 kb/s.
    sizes = [50_000, 200_000, 50_000]
    assert minimal_bandwidth(sizes, TWO, Fraction(4)) == 400_000
    # The per-segment peak (1.6 Mbit in 2 s = 800 kb/s) is twice what the model asks for.


def test_unequal_durations_use_presentation_time_not_segment_count() -> None:
    # 1 s of 25 000 bytes (200 000 bits), then 3 s of 300 000 bytes (2 400 000 bits); buffer 1 s.
    # From 0: 200k/1 = 200k, 2.6M/(1 + 1) = 1.3M. From 1: 2.4M/1 = 2.4M.  -> 2.4 Mb/s.
    sizes, durations = [25_000, 300_000], [Fraction(1), Fraction(3)]
    assert minimal_bandwidth(sizes, durations, Fraction(1)) == 2_400_000
    assert plays_without_stall(2_400_000, sizes, durations, Fraction(1))
    assert not plays_without_stall(2_399_999, sizes, durations, Fraction(1))


@pytest.mark.parametrize(
    ("declared", "passes", "severity"),
    [
        (800_000, True, "error"),  # meets the model
        (760_000, False, "warning"),  # 760 000 x 1.1 = 836 000 >= 800 000: within 10 %
        (727_273, False, "warning"),  # 727 273 x 1.1 = 800 000.3
        (727_272, False, "error"),  # 727 272 x 1.1 = 799 999.2: more than 10 % short
        (400_000, False, "error"),  # halved
    ],
)
def test_severity_of_a_declared_bandwidth_against_the_model(
    declared: int, passes: bool, severity: str
) -> None:
    needed = minimal_bandwidth([50_000, 200_000, 50_000], TWO, Fraction(2))
    assert verdict(declared, needed) == (passes, severity)


def test_bad_inputs_are_value_errors() -> None:
    with pytest.raises(ValueError, match="2 sizes for 3 durations"):
        minimal_bandwidth([1, 2], TWO, Fraction(2))
    with pytest.raises(ValueError, match="must be positive"):
        minimal_bandwidth([1, 2, 3], TWO, Fraction(0))


def test_the_closed_form_agrees_with_the_simulation_on_varied_ladders() -> None:
    import random

    rng = random.Random(6)  # seeded: the same 40 cases every run
    for _ in range(40):
        n = rng.randint(1, 12)
        sizes = [rng.randint(1_000, 400_000) for _ in range(n)]
        durations = [Fraction(rng.randint(500, 6_000), 1000) for _ in range(n)]
        buffer = Fraction(rng.randint(500, 8_000), 1000)
        needed = minimal_bandwidth(sizes, durations, buffer)
        assert plays_without_stall(needed, sizes, durations, buffer)
        assert not plays_without_stall(needed * Fraction(999, 1000), sizes, durations, buffer)


def test_an_empty_representation_needs_nothing() -> None:
    assert minimal_bandwidth([], [], Fraction(2)) == 0
