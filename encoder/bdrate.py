"""Bjøntegaard delta rate: the average bitrate difference between two rate-quality curves.

G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves", ITU-T SG16/Q6
VCEG-M33, Austin, April 2001: fit the logarithm of the rate as a cubic polynomial of the
quality for each curve, integrate both over the quality range they share, and turn the mean
difference of log-rates back into a ratio. With four points per curve the cubic interpolates
them; with more it is the least-squares fit. vodpipe uses VMAF as the quality axis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from numpy.polynomial import Polynomial

from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

_DEGREE = 3


def _log_rate_fit(points: Sequence[tuple[float, float]], name: str) -> Polynomial:
    if len(points) < _DEGREE + 1:
        raise ConfigError(f"BD-rate needs at least {_DEGREE + 1} rate-quality points for the {name} curve")
    if any(rate <= 0 for rate, _ in points):
        raise ConfigError(f"BD-rate needs positive bit rates ({name} curve)")
    qualities = [quality for _, quality in points]
    if len(set(qualities)) < _DEGREE + 1:
        raise ConfigError(f"BD-rate needs {_DEGREE + 1} distinct quality values ({name} curve)")
    # Polynomial.fit maps the qualities onto [-1, 1] first, which keeps the cubic well conditioned.
    return Polynomial.fit(qualities, [math.log(rate) for rate, _ in points], _DEGREE)


def mean_log_rate_difference(
    reference: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]], low: float, high: float
) -> float:
    """Mean of ln(rate_test) - ln(rate_reference) over qualities ``low`` to ``high``, by the fits."""
    ref_integral = _log_rate_fit(reference, "reference").integ()
    test_integral = _log_rate_fit(test, "test").integ()
    area_ref = float(ref_integral(high) - ref_integral(low))
    area_test = float(test_integral(high) - test_integral(low))
    return (area_test - area_ref) / (high - low)


def bd_rate(reference: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]]) -> float:
    """Percent more (positive) or less (negative) bitrate ``test`` needs for the same quality.

    Each curve is a sequence of (bitrate, quality) points. The integral runs over the quality
    range both curves cover (VCEG-M33; the VCEG-AE07 and JCTVC-L1100 spreadsheets do the same):
    a fit outside its own points is an extrapolation, not a measurement.
    """
    for name, curve in (("reference", reference), ("test", test)):
        if not curve:
            raise ConfigError(f"BD-rate needs rate-quality points for the {name} curve")
    low = max(min(q for _, q in reference), min(q for _, q in test))
    high = min(max(q for _, q in reference), max(q for _, q in test))
    if high <= low:
        raise ConfigError(f"the curves do not overlap in quality ({low:g} to {high:g}): no BD-rate")
    return (math.exp(mean_log_rate_difference(reference, test, low, high)) - 1) * 100
