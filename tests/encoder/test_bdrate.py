from __future__ import annotations

import math

import pytest

from encoder.bdrate import bd_rate, mean_log_rate_difference
from vodpipe.errors import ConfigError

# The worked example in IENT/RDPlot (src/rdplot/tests/test_bd.py): two HM-style curves of
# (kb/s, PSNR) whose BD-rate, by G. Valenzise's bjontegaard.m (MATLAB Central 27798), is
# -11.8353612757205 %. That script integrates over the union of the two quality ranges; the
# fit and the integral are the same as VCEG-M33's, so the figure checks them exactly.
RDPLOT_ANCHOR = [(937.0112, 45.5074), (1405.4792, 47.0002), (3438.7128, 49.9565), (6448.6368, 52.1459)]
RDPLOT_TEST = [(822.0064, 45.7215), (1608.9144, 47.6227), (3086.912, 50.1394), (5784.7696, 52.3339)]


def test_fit_and_integral_match_the_published_example() -> None:
    union_low, union_high = 45.5074, 52.3339
    difference = mean_log_rate_difference(RDPLOT_ANCHOR, RDPLOT_TEST, union_low, union_high)
    assert (math.exp(difference) - 1) * 100 == pytest.approx(-11.8353612757205, abs=1e-9)


def test_bd_rate_integrates_over_the_shared_quality_range() -> None:
    # the same example over 45.7215..52.1459 dB, the range both curves measured
    difference = mean_log_rate_difference(RDPLOT_ANCHOR, RDPLOT_TEST, 45.7215, 52.1459)
    assert bd_rate(RDPLOT_ANCHOR, RDPLOT_TEST) == pytest.approx((math.exp(difference) - 1) * 100, abs=1e-12)
    assert bd_rate(RDPLOT_ANCHOR, RDPLOT_TEST) == pytest.approx(-11.5029, abs=1e-4)


def test_a_constant_rate_ratio_is_recovered_exactly() -> None:
    anchor = [(300_000.0, 60.0), (700_000.0, 75.0), (1_500_000.0, 86.0), (3_000_000.0, 93.0)]
    cheaper = [(rate * 0.8, quality) for rate, quality in anchor]
    assert bd_rate(anchor, cheaper) == pytest.approx(-20.0, abs=1e-9)
    assert bd_rate(cheaper, anchor) == pytest.approx(25.0, abs=1e-9)
    assert bd_rate(anchor, anchor) == pytest.approx(0.0, abs=1e-12)


def test_half_rate_lines_as_in_compare_codecs() -> None:
    # google/compare-codecs lib/visual_metrics_unittest.py: a line at twice the quality per
    # bit is about -50 % (and the reverse about +100 %); the cubic only approximates a log.
    line = [(float(r), float(r)) for r in (10, 20, 30, 40)]
    steeper = [(float(r), float(2 * r)) for r in (10, 20, 30, 40)]
    assert bd_rate(line, steeper) == pytest.approx(-50.0, abs=0.5)
    assert bd_rate(steeper, line) == pytest.approx(100.0, abs=2.0)


@pytest.mark.parametrize(
    ("test", "message"),
    [
        pytest.param([(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)], "at least 4", id="three-points"),
        pytest.param([(1.0, 96.0), (2.0, 97.0), (3.0, 98.0), (4.0, 99.0)], "do not overlap", id="disjoint"),
        pytest.param([(0.0, 10.0), (2.0, 20.0), (3.0, 30.0), (4.0, 40.0)], "positive", id="zero-rate"),
        pytest.param([(1.0, 10.0), (2.0, 10.0), (3.0, 30.0), (4.0, 40.0)], "distinct", id="repeated-quality"),
    ],
)
def test_unusable_curves_are_precise_errors(test: list[tuple[float, float]], message: str) -> None:
    anchor = [(1.0, 10.0), (2.0, 20.0), (3.0, 30.0), (4.0, 40.0)]
    with pytest.raises(ConfigError, match=message):
        bd_rate(anchor, test)
