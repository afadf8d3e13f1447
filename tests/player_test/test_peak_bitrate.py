"""RFC 8216bis §4.1 peak and average segment bit rates on hand-made playlists."""

from __future__ import annotations

from fractions import Fraction

import pytest

from player_test.bitrate import average_bitrate, peak_bitrate, verdict

F = Fraction


def test_a_tiny_last_segment_does_not_dominate_the_peak() -> None:
    # Target 4 s: runs must last 2 to 6 s. 4 s x 500 kB, 4 s x 600 kB, then 0.01 s x 20 kB.
    sizes, durations = [500_000, 600_000, 20_000], [F(4), F(4), F("0.01")]
    # Per segment, the last one is 160 kbit / 0.01 s = 16 Mb/s (the old rule's "peak").
    assert F(8 * 20_000) / F("0.01") == F(16_000_000)
    # The runs that qualify: [0] 4 s: 1.0 Mb/s; [1] 4 s: 1.2 Mb/s; [1,2] 4.01 s:
    # 620 kB * 8 / 4.01 s = 1,236,907.73 b/s. [0,1] lasts 8 s (> 6 s); [2] 0.01 s (< 2 s).
    assert peak_bitrate(sizes, durations, F(4)) == F(4_960_000) / F("4.01")
    assert round(peak_bitrate(sizes, durations, F(4))) == 1_236_908


def test_short_segments_are_combined_into_runs_of_half_to_one_and_a_half_targets() -> None:
    # Target 6 s, 1 s segments: runs of 3 to 9 segments. Sizes 100 kB except one 400 kB spike.
    sizes = [100_000] * 10
    sizes[4] = 400_000
    durations = [F(1)] * 10
    # The best run is the shortest that holds the spike: 3 segments = 600 kB in 3 s = 1.6 Mb/s.
    assert peak_bitrate(sizes, durations, F(6)) == F(1_600_000)
    # Average: 1.3 MB in 10 s = 1.04 Mb/s.
    assert average_bitrate(sizes, durations) == F(1_040_000)


def test_a_playlist_shorter_than_half_a_target_peaks_at_its_average() -> None:
    assert peak_bitrate([1_000, 3_000], [F(1), F(1)], F(10)) == F(16_000)  # 32 kbit over 2 s


def test_sizes_and_durations_must_pair() -> None:
    with pytest.raises(ValueError, match="2 sizes for 1 durations"):
        peak_bitrate([1, 2], [F(1)], F(1))


@pytest.mark.parametrize(
    ("declared", "measured", "expected"),
    [
        (1_000_000, F(1_000_000), (True, "error")),
        (950_000, F(1_000_000), (False, "warning")),  # 5 % low: within Apple's 10 %
        (909_091, F(1_000_000), (False, "warning")),  # 909,091 x 1.1 = 1,000,000.1
        (909_090, F(1_000_000), (False, "error")),  # 909,090 x 1.1 = 999,999
        (500_000, F(1_000_000), (False, "error")),
    ],
    ids=["equal", "5-percent-low", "just-within-10-percent", "just-beyond-10-percent", "halved"],
)
def test_bandwidth_verdict(declared: int, measured: Fraction, expected: tuple[bool, str]) -> None:
    assert verdict(declared, measured) == expected
