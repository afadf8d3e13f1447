"""Rate-quality convex hulls and rung selection on them. Pure logic.

Trial encodes give (bitrate, VMAF) points per resolution. The upper convex hull of those points
is the best quality reachable at each bitrate (a player switching between two hull points gets
the chord between them, so a point under a chord is never worth listing); across resolutions,
the hull passes from one resolution to the next where their hulls cross, which is where a
per-title ladder should switch resolution, wherever that lands in bitrate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


@dataclass(frozen=True)
class RatePoint:
    bitrate: int  # measured bits per second of the trial encode
    quality: float  # VMAF of the trial encode against the master
    height: int  # the resolution's short side
    setting: str = ""  # what produced it (a CRF, a target rate), for the plan and the plot


@dataclass(frozen=True)
class Crossover:
    bitrate: int  # the first hull point of the new resolution
    from_height: int
    to_height: int


def _cross(o: RatePoint, a: RatePoint, b: RatePoint) -> float:
    return (a.bitrate - o.bitrate) * (b.quality - o.quality) - (a.quality - o.quality) * (
        b.bitrate - o.bitrate
    )


def upper_hull(points: Iterable[RatePoint]) -> list[RatePoint]:
    """The rising part of the upper convex hull, cheapest first (Andrew's monotone chain).

    Points under a chord between two others go, and so does every point that a cheaper point
    matches or beats in quality: along the result, bitrate and quality both strictly rise.
    """
    ordered = sorted(points, key=lambda p: (p.bitrate, -p.quality))
    hull: list[RatePoint] = []
    for point in ordered:
        if hull and point.quality <= hull[-1].quality:
            continue  # costs as much or more for no gain: never on the rising hull
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], point) >= 0:
            hull.pop()  # hull[-1] lies on or under the chord from hull[-2] to point
        hull.append(point)
    return hull


def hulls_by_resolution(points: Iterable[RatePoint]) -> dict[int, list[RatePoint]]:
    groups: dict[int, list[RatePoint]] = {}
    for point in points:
        groups.setdefault(point.height, []).append(point)
    return {height: upper_hull(group) for height, group in sorted(groups.items())}


def crossovers(hull: Sequence[RatePoint]) -> list[Crossover]:
    """Where the hull across resolutions passes from one resolution to another."""
    return [
        Crossover(bitrate=b.bitrate, from_height=a.height, to_height=b.height)
        for a, b in itertools.pairwise(hull)
        if a.height != b.height
    ]


def select_rungs(
    hull: Sequence[RatePoint],
    *,
    saturation: float = 95.0,
    max_bitrate: int | None = None,
    min_bitrate: int = 0,
    min_quality: float = 0.0,
    min_step: float = 6.0,
    max_ratio: float = 2.0,
) -> list[RatePoint]:
    """Rungs on a rising hull, cheapest first.

    The top rung is the cheapest point that reaches ``saturation`` VMAF (more bits buy nothing
    a viewer sees) or the best point under ``max_bitrate``; the bottom rung is the cheapest
    point at or above ``min_bitrate`` and ``min_quality``, for the slowest networks. Going down
    from the top, each next rung is the cheapest point within ``max_ratio`` of the rung above it (a player can
    switch across that step); where that point is less than ``min_step`` VMAF below (a step
    nobody would see), the next rung is instead the dearest point at least ``min_step`` below,
    and the ratio gives way. A last rung too close to the bottom one in quality is dropped.
    """
    if min_step <= 0 or max_ratio <= 1:
        raise ConfigError("rung spacing needs min_step > 0 and max_ratio > 1")
    candidates = [
        p
        for p in hull
        if p.bitrate >= min_bitrate
        and p.quality >= min_quality
        and (max_bitrate is None or p.bitrate <= max_bitrate)
    ]
    if not candidates:
        raise ConfigError(f"no trial point between {min_bitrate} and {max_bitrate} b/s: widen the grid")
    saturated = [p for p in candidates if p.quality >= saturation]
    top = saturated[0] if saturated else candidates[-1]
    bottom = candidates[0]
    rungs = [top]
    while rungs[-1] is not bottom:
        current = rungs[-1]
        below = [p for p in candidates if p.bitrate < current.bitrate]
        within = [p for p in below if p.bitrate * max_ratio >= current.bitrate]
        if within and current.quality - within[0].quality >= min_step:
            rungs.append(within[0])
            continue
        spaced = [p for p in below if current.quality - p.quality >= min_step]
        if not spaced:
            break
        rungs.append(spaced[-1])
    if rungs[-1] is not bottom:
        if len(rungs) > 1 and rungs[-1].quality - bottom.quality < min_step:
            rungs.pop()  # keep the bottom for slow networks; the rung just above it adds too little
        rungs.append(bottom)
    return rungs[::-1]
