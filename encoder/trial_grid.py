"""Which trial encodes to run, pass by pass: start at the top resolution, go down only where the
hull needs it, and try the grid's ends only where the top rung lands.

Pure logic. Every trial costs an encode of the excerpt and its VMAF, and most of a full
resolutions x CRFs grid is never on the hull (measured on the bench set and the demo master: a
smaller resolution at the grid's lowest CRF spends more than a larger one for less quality, and
a larger one at the highest CRF is beaten by a smaller one). So:

1. the top resolution at the grid's inner CRFs;
2. every smaller resolution at the inner CRFs, unless the top resolution already reaches
   ``top_vmaf`` at or under ``min_bitrate``: then the top rung costs less than the floor, the
   floor drops to it (``encoder.per_title.choose_points``), and a smaller resolution could only
   add points under it (a still slide: one rung);
3. the next lower CRF at the top rung's resolution while the top rung is under ``top_vmaf`` and
   the cap (more quality is there to buy), in the pass after the one that found it; where every
   point is over the cap, the next higher CRF at the cheapest one.

The rungs between the ends are spaced on the hull the inner CRFs measure.
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


def floor_reached(points: Sequence[RatePoint], options: PerTitleOptions) -> bool:
    """Whether these points hold one at or above ``top_vmaf`` at or under ``min_bitrate``."""
    return any(p.quality >= options.top_vmaf and p.bitrate <= options.min_bitrate for p in points)


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
        return [(heights[0], crf) for crf in inner]
    tried = {(p.height, round(crf_of(p))) for p in points}
    wanted: list[Trial] = []
    tried_heights = {h for h, _ in tried}
    if len(tried_heights) == 1 and not floor_reached(points, options):
        wanted += [(h, crf) for h in heights[1:] for crf in inner]
    hull = upper_hull(points)
    if any(p.bitrate <= options.max_bitrate for p in hull):
        top = top_point(hull, options)
        crf = _lower(grid, round(crf_of(top))) if top.quality < options.top_vmaf else None
        if crf is not None and (top.height, crf) not in tried:
            wanted.append((top.height, crf))
    elif not wanted:  # everything over the cap: the next higher CRF at the cheapest point
        cheapest = min(points, key=lambda p: p.bitrate)
        crf = min((c for c in grid if c > round(crf_of(cheapest))), default=None)
        if crf is not None and (cheapest.height, crf) not in tried:
            wanted.append((cheapest.height, crf))
    return wanted
