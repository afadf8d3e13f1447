"""Which trial encodes to run: a coarse first pass, then a refinement only where rungs land.

Pure logic. Every trial costs an encode of the excerpt and its VMAF, and most of a full
resolutions x CRFs grid is never on the hull: a small resolution at the grid's lowest CRF spends
more than a larger one for less quality, and a large one at the highest CRF is beaten by a
smaller one. The first pass tries every resolution at the grid's inner CRFs; the hull they give
says where the top and bottom rungs land, and the second pass tries only the grid neighbours that
could move those ends: the next lower CRF at the top (still under the saturation VMAF and the
cap: more quality is there to buy), the next higher CRF at the bottom (a cheaper point may still
clear the floors). The rungs in between are spaced on the hull the first pass already measured.
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


def first_crfs(crfs: Sequence[int]) -> tuple[int, ...]:
    """The first pass: the grid without its two ends (a grid of two or fewer is tried whole)."""
    grid = sorted(set(crfs))
    return tuple(grid[1:-1]) if len(grid) > 2 else tuple(grid)


def _neighbour(grid: Sequence[int], crf: int, direction: int) -> int | None:
    """The next grid CRF above (``direction`` 1) or below (-1) ``crf``, if any."""
    beyond = [c for c in grid if (c - crf) * direction > 0]
    if not beyond:
        return None
    return min(beyond) if direction > 0 else max(beyond)


def refinements(points: Sequence[RatePoint], crfs: Sequence[int], options: PerTitleOptions) -> list[Trial]:
    """The second pass: grid neighbours of the hull's top and bottom rungs not yet tried.

    The top is the point :func:`encoder.per_title.choose_points` would take (the cheapest at or
    above ``top_vmaf`` under the cap, else the best under it): below ``top_vmaf`` it gets the next
    lower CRF at its resolution. The bottom is the cheapest hull point clearing both floors: it
    gets the next higher CRF. Where every point is over the cap, the cheapest gets the next
    higher CRF.
    """
    if not points:
        return []
    grid = sorted(set(crfs))
    tried = {(p.height, round(crf_of(p))) for p in points}
    hull = upper_hull(points)
    wanted: list[Trial] = []

    def want(point: RatePoint, direction: int) -> None:
        crf = _neighbour(grid, round(crf_of(point)), direction)
        if crf is not None and (point.height, crf) not in tried and (point.height, crf) not in wanted:
            wanted.append((point.height, crf))

    capped = [p for p in hull if p.bitrate <= options.max_bitrate]
    if not capped:
        want(min(points, key=lambda p: p.bitrate), 1)
        return wanted
    top = top_point(hull, options)
    if top.quality < options.top_vmaf:
        want(top, -1)
    floor_rate = min(options.min_bitrate, top.bitrate)
    floor_quality = min(options.min_vmaf, top.quality)
    bottom = next(p for p in capped if p.bitrate >= floor_rate and p.quality >= floor_quality)
    if bottom != top:
        want(bottom, 1)
    return wanted
