"""Which trial encodes to run, pass by pass: start with one trial at the top resolution, go
down only where the hull needs it, and try the grid's ends only where the top rung lands.

Pure logic. Every trial costs an encode of the excerpt and its VMAF, and most of a full
resolutions x CRFs grid is never on the hull (measured on the bench set and the demo master: a
smaller resolution at the grid's lowest CRF spends more than a larger one for less quality, and
a larger one at the highest CRF is beaten by a smaller one). So:

1. the top resolution at the grid's first inner CRF;
2. every resolution but the smallest at the inner CRFs, unless a point already reaches
   ``top_vmaf`` at or under ``min_bitrate``: then the top rung costs less than the floor, the
   floor drops to it (``encoder.per_title.choose_points``), and cheaper points could only lie
   under it (a still slide: one trial). The smallest resolution only ever serves the bottom
   rung: it joins the next pass where the larger ones leave every point more than a rung step
   (``max_ratio``) above the floor, where a smaller picture is what reaches it (on the bench
   set, 360p at CRF 31 came within 160-270 kb/s of a 150 kb/s floor, and no 240p point was ever
   chosen: 240p at CRF 25 cost about what 360p at 31 did for 1.5 to 9 VMAF less);
3. while the top rung is under ``top_vmaf`` and within the cap, more quality is there to buy: at
   its resolution and every larger one, the next lower grid CRF, or halfway to it where that one
   is over the cap. Where every point is over the cap, the next higher CRF at the cheapest one.

Each pass asks only for what the points so far make worth trying, and nothing twice; the rungs
between the ends are spaced on the hull the inner CRFs measure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from encoder.hull import upper_hull
from encoder.per_title import crf_of, top_point

if TYPE_CHECKING:
    from collections.abc import Sequence

    from encoder.hull import RatePoint
    from encoder.per_title import PerTitleOptions

Trial = tuple[int, int]  # (the resolution's nominal short side, CRF)


def inner_crfs(crfs: Sequence[int]) -> tuple[int, ...]:
    """The grid without its two ends (a grid of two or fewer is tried whole)."""
    grid = sorted(set(crfs))
    return tuple(grid[1:-1]) if len(grid) > 2 else tuple(grid)


def _lower(grid: Sequence[int], crf: int) -> int | None:
    """The next grid CRF under ``crf`` (more bits), if any."""
    return max((c for c in grid if c < crf), default=None)


def _midpoint(grid: Sequence[int], low: int, high: int) -> int | None:
    """The CRF halfway between two neighbours on the grid, if there is a whole one between."""
    if [c for c in grid if low <= c <= high] != [low, high] or high - low < 2:
        return None
    return (low + high) // 2


def floor_reached(points: Sequence[RatePoint], options: PerTitleOptions) -> bool:
    """Whether these points hold one at or above ``top_vmaf`` at or under ``min_bitrate``."""
    return any(p.quality >= options.top_vmaf and p.bitrate <= options.min_bitrate for p in points)


def _towards_the_top(
    points: Sequence[RatePoint], top: RatePoint, grid: Sequence[int], options: PerTitleOptions
) -> list[Trial]:
    """At the top rung's resolution and every larger one: the next lower grid CRF under the
    dearest trial within the cap, or, where that one was tried and is over the cap, the CRF
    halfway to it (grain: CRF 25 over the cap, 31 far under it, 28 in between)."""
    rates = {(p.height, round(crf_of(p))): p.bitrate for p in points}
    wanted: list[Trial] = []
    for height in sorted({p.height for p in points if p.height >= top.height}):
        within = [c for (h, c), rate in rates.items() if h == height and rate <= options.max_bitrate]
        if not within:
            continue
        dearest = min(within)
        lower = _lower(grid, dearest)
        if lower is None:
            continue
        if (height, lower) not in rates:
            wanted.append((height, lower))
            continue
        middle = _midpoint(grid, lower, dearest)
        if middle is not None and (height, middle) not in rates:
            wanted.append((height, middle))
    return wanted


def _sizes(
    points: Sequence[RatePoint],
    tried: set[Trial],
    heights: Sequence[int],
    inner: Sequence[int],
    options: PerTitleOptions,
) -> Sequence[int]:
    """The resolutions to try at the inner CRFs: all but the smallest, and that one too once the
    others are tried and no point costs within a rung step of the floor."""
    if len(heights) < 2:
        return heights
    larger = heights[:-1]
    others_tried = all((h, c) in tried for h in larger for c in inner)
    if others_tried and min(p.bitrate for p in points) > options.max_ratio * options.min_bitrate:
        return heights
    return larger


def next_trials(
    points: Sequence[RatePoint], heights: Sequence[int], crfs: Sequence[int], options: PerTitleOptions
) -> list[Trial]:
    """The next pass's trials given the points measured so far (none: the first pass); an empty
    list when the analysis is done. ``heights`` are the resolutions to try, largest first."""
    if not heights:
        return []
    grid = sorted(set(crfs))
    inner = inner_crfs(grid)
    if not points:
        return [(heights[0], inner[0])]
    tried = {(p.height, round(crf_of(p))) for p in points}
    wanted: list[Trial] = []
    if not floor_reached(points, options):
        wanted += [
            (h, crf)
            for h in _sizes(points, tried, heights, inner, options)
            for crf in inner
            if (h, crf) not in tried
        ]
    hull = upper_hull(points)
    if any(p.bitrate <= options.max_bitrate for p in hull):
        top = top_point(hull, options)
        if top.quality < options.top_vmaf:
            wanted += [t for t in _towards_the_top(points, top, grid, options) if t not in wanted]
    elif not wanted:  # everything over the cap: the next higher CRF at the cheapest point
        cheapest = min(points, key=lambda p: p.bitrate)
        crf = min((c for c in grid if c > round(crf_of(cheapest))), default=None)
        if crf is not None and (cheapest.height, crf) not in tried:
            wanted.append((cheapest.height, crf))
    return wanted
