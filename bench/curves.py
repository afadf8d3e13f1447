"""A ladder's rate-quality curve, and the BD-rate between two ladders. Pure logic.

Each encoded rung is one (measured bitrate, mean VMAF) point. A ladder is judged by the best
quality it lets a player reach at each rate, which is the upper convex hull of its points
(:func:`encoder.hull.upper_hull`): a rung that a cheaper rung matches, or that lies under the
chord between two others, never helps, and between two hull rungs a player that alternates
segments of the two gets the rate and quality on the chord, so the curve is piecewise linear
in rate between hull points.

The BD-rate of one ladder against another is then the mean, over the qualities both curves
reach, of the log of the ratio of the rates they need for that quality (the Bjøntegaard
measure, VCEG-M33, with the curves' own chords in place of a fitted cubic: a ladder of two or
three rungs has too few points for a cubic, and a cubic through hull points can bend back).
The classic cubic figure (:func:`encoder.bdrate.bd_rate`) is given beside it where both hulls
have the four points it needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from encoder.bdrate import bd_rate
from encoder.hull import RatePoint, upper_hull

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_SAMPLES = 2001  # qualities at which the two curves are compared (the trapezoid rule's grid)


@dataclass(frozen=True)
class RungResult:
    """One encoded rung, measured."""

    name: str
    width: int
    height: int
    codec: str
    target_bitrate: int  # what the ladder asked the encoder for
    payload_bytes: int  # the rendition's sample bytes (no container overhead)
    seconds: float  # the rendition's duration (sum of its sample durations)
    vmaf: float  # mean over the scored frames, against the master at its display size
    vmaf_p5: float

    @property
    def bitrate(self) -> int:
        """Measured average bits per second."""
        return round(self.payload_bytes * 8 / self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": f"{self.width}x{self.height}",
            "codec": self.codec,
            "target_bitrate": self.target_bitrate,
            "bitrate": self.bitrate,
            "payload_bytes": self.payload_bytes,
            "seconds": round(self.seconds, 6),
            "vmaf": round(self.vmaf, 3),
            "vmaf_p5": round(self.vmaf_p5, 3),
        }


@dataclass(frozen=True)
class BdResult:
    percent: float | None  # negative: the test ladder needs that much less rate; None: no overlap
    low: float | None  # the quality range compared
    high: float | None
    cubic_percent: float | None = None  # VCEG-M33's cubic fit, where both hulls have 4+ points
    reason: str = ""  # why there is no figure

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None, digits: int) -> float | None:
            return None if v is None else round(v, digits)

        out: dict[str, Any] = {
            "percent": r(self.percent, 2),
            "cubic_percent": r(self.cubic_percent, 2),
            "vmaf_range": None if self.low is None else [r(self.low, 3), r(self.high, 3)],
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def ladder_curve(rungs: Iterable[RungResult]) -> list[RatePoint]:
    """The ladder's upper hull, cheapest first; each point's ``setting`` names its rung."""
    return upper_hull(RatePoint(r.bitrate, r.vmaf, r.height, r.name) for r in rungs)


def rate_at(curve: Sequence[RatePoint], quality: float) -> float:
    """The rate the curve needs for ``quality``, along its chords (within its quality range)."""
    return float(np.interp(quality, [p.quality for p in curve], [p.bitrate for p in curve]))


def hull_bd_rate(reference: Sequence[RatePoint], test: Sequence[RatePoint]) -> BdResult:
    """Percent rate ``test`` needs over ``reference`` for the same quality, on their hulls.

    Both are rising hulls (:func:`ladder_curve`). Where they share a single quality only (one
    curve is a single rung inside the other's range), the figure is the ratio of rates there,
    which is what the mean tends to as the shared range shrinks.
    """
    if not reference or not test:
        return BdResult(None, None, None, reason="a ladder has no rung")
    low = max(reference[0].quality, test[0].quality)
    high = min(reference[-1].quality, test[-1].quality)
    if high < low:
        return BdResult(
            None,
            None,
            None,
            reason=f"the ladders share no quality: reference VMAF {reference[0].quality:.1f}-"
            f"{reference[-1].quality:.1f}, test {test[0].quality:.1f}-{test[-1].quality:.1f}",
        )
    qualities = np.linspace(low, high, _SAMPLES) if high > low else np.array([low])
    ref_rates = np.interp(qualities, [p.quality for p in reference], [p.bitrate for p in reference])
    test_rates = np.interp(qualities, [p.quality for p in test], [p.bitrate for p in test])
    log_ratio = np.log(test_rates / ref_rates)
    # The trapezoid rule on the even grid, divided by the range: the mean of the log ratio.
    mean = float((log_ratio.sum() - (log_ratio[0] + log_ratio[-1]) / 2) / max(1, len(log_ratio) - 1))
    if len(log_ratio) == 1:
        mean = float(log_ratio[0])
    cubic = None
    if len(reference) >= 4 and len(test) >= 4:
        cubic = bd_rate([(p.bitrate, p.quality) for p in reference], [(p.bitrate, p.quality) for p in test])
    return BdResult((math.exp(mean) - 1) * 100, low, high, cubic)


def average(results: Iterable[BdResult]) -> dict[str, Any]:
    """The mean BD-rate over the masters that have one, and the worst (highest) of them."""
    values = [r.percent for r in results if r.percent is not None]
    return {
        "mean_percent": round(sum(values) / len(values), 2) if values else None,
        "worst_percent": round(max(values), 2) if values else None,
        "masters": len(values),
    }


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def average_shares(shares: Mapping[str, Sequence[float | None]]) -> dict[str, float | None]:
    """Per kind of time (wall, cpu): the mean of the masters' shares."""
    means: dict[str, float | None] = {}
    for kind, values in shares.items():
        known = [v for v in values if v is not None]
        means[kind] = round(sum(known) / len(known), 4) if known else None
    return means
