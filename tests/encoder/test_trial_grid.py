from __future__ import annotations

import pytest

from encoder.hull import RatePoint
from encoder.per_title import PerTitleOptions
from encoder.trial_grid import Trial, floor_reached, inner_crfs, next_trials

HEIGHTS = (1080, 720, 540)
GRID = (19, 25, 31, 37)
OPTIONS = PerTitleOptions(crfs=GRID)


def _p(kbps: int, quality: float, height: int, crf: int) -> RatePoint:
    return RatePoint(kbps * 1000, quality, height, f"crf={crf}")


def _run(
    measure: dict[Trial, RatePoint],
    options: PerTitleOptions = OPTIONS,
    heights: tuple[int, ...] = HEIGHTS,
) -> list[list[Trial]]:
    """The passes next_trials asks for, each answered from ``measure``."""
    points: list[RatePoint] = []
    passes = []
    trials = next_trials(points, heights, GRID, options)
    while trials:
        passes.append(trials)
        points += [measure[t] for t in trials]
        trials = next_trials(points, heights, GRID, options)
    return passes


def _title() -> dict[Trial, RatePoint]:
    """A test pattern's grid (the demo master's trials, rounded): 1080p wins above 1.7 Mb/s."""
    rows = {
        1080: ((7674, 96.8), (4013, 93.3), (1729, 86.5), (1134, 74.8)),
        720: ((2366, 86.7), (950, 82.3), (450, 74.0), (363, 56.8)),
        540: ((1206, 81.2), (503, 76.0), (286, 69.3), (253, 51.5)),
    }
    return {(h, c): _p(k, q, h, c) for h, row in rows.items() for c, (k, q) in zip(GRID, row, strict=True)}


def test_inner_crfs_drop_the_grid_ends() -> None:
    assert inner_crfs((37, 19, 31, 25)) == (25, 31)
    assert inner_crfs((18, 23, 28, 33, 38)) == (23, 28, 33)
    assert inner_crfs((20, 30)) == (20, 30)


def test_one_trial_first_then_the_inner_crfs_and_the_top_rungs_lower_crf() -> None:
    passes = _run(_title())
    assert passes == [
        [(1080, 25)],
        # 1080p@25 is short of 95 VMAF: its next lower CRF, with the inner CRFs at the larger sizes
        [(1080, 31), (720, 25), (720, 31), (1080, 19)],
        # the cheapest point, 720p@31, costs 450 kb/s: over twice the 150 kb/s floor, so the
        # smallest size is tried for the bottom rung
        [(540, 25), (540, 31)],
    ]
    assert sum(map(len, passes)) == 7  # of the grid's 12


def test_the_smallest_size_is_not_tried_where_the_larger_ones_reach_near_the_floor() -> None:
    # the bench pattern master's trials (rounded): 360p@31 costs 160 kb/s, within a rung step
    # (2x) of the 150 kb/s floor, and 240p at CRF 25 would cost 140 kb/s for 63 VMAF to its 69
    rows = {
        720: {19: (3190, 97.7), 25: (1773, 94.8), 31: (820, 88.6)},
        540: {25: (701, 87.5), 31: (334, 80.6)},
        360: {25: (268, 77.9), 31: (160, 69.4)},
        240: {25: (140, 63.2), 31: (97, 51.5)},
    }
    pattern = {(h, c): _p(k, q, h, c) for h, row in rows.items() for c, (k, q) in row.items()}
    passes = _run(pattern, heights=(720, 540, 360, 240))
    assert passes == [[(720, 25)], [(720, 31), (540, 25), (540, 31), (360, 25), (360, 31), (720, 19)]]
    # a floor under half of 160 kb/s: then 240p is tried, in a pass of its own
    options = PerTitleOptions(crfs=GRID, min_bitrate=79_000)
    passes = _run(pattern, options, heights=(720, 540, 360, 240))
    assert passes[2:] == [[(240, 25), (240, 31)]]


def test_a_saturated_top_asks_for_no_lower_crf() -> None:
    title = _title()
    title[(1080, 25)] = _p(4013, 95.5, 1080, 25)
    assert _run(title) == [[(1080, 25)], [(1080, 31), (720, 25), (720, 31)], [(540, 25), (540, 31)]]


def test_a_still_slide_stops_at_its_first_trial() -> None:
    slide = {(1080, 25): _p(38, 95.6, 1080, 25)}
    # 95 VMAF for 38 kb/s: the floor (150 kb/s) drops to the top rung, cheaper points add nothing
    assert floor_reached(list(slide.values()), OPTIONS)
    assert _run(slide) == [[(1080, 25)]]


def test_grain_over_the_cap_gets_the_crf_halfway_at_the_top_resolution() -> None:
    # the noisy bench master's trials (rounded): 720p@25 costs more than the 8 Mb/s cap
    rows = {
        720: {19: (30000, 97.0), 25: (10861, 89.5), 28: (2570, 82.8), 31: (1381, 74.6)},
        540: {19: (12160, 83.6), 25: (1627, 75.0), 31: (566, 60.7)},
        360: {25: (566, 60.8), 31: (269, 45.0)},
    }
    noisy = {(h, c): _p(k, q, h, c) for h, row in rows.items() for c, (k, q) in row.items()}
    passes = _run(noisy, heights=(720, 540, 360))
    assert passes == [
        [(720, 25)],
        [(720, 31), (540, 25), (540, 31)],
        # 540p@31 costs 566 kb/s, far over the floor: 360p for the bottom rung; the top rung is
        # 540p@25: its lower CRF, and 720p halfway between 31 and the 25 over the cap
        [(360, 25), (360, 31), (540, 19), (720, 28)],
    ]  # 720p@28 is then the top rung, and there is no whole-grid CRF between 25 and 28 to try


def test_everything_over_the_cap_asks_for_the_next_higher_crf() -> None:
    title = _title()
    options = PerTitleOptions(crfs=GRID, max_bitrate=200_000, min_bitrate=100_000)
    passes = _run(title, options)
    assert passes[-1] == [(540, 37)]  # the cheapest point, 540p@31 at 286 kb/s, one CRF higher


@pytest.mark.parametrize(("heights", "first"), [((), []), ((720,), [(720, 25)])], ids=["no-size", "one-size"])
def test_few_sizes(heights: tuple[int, ...], first: list[Trial]) -> None:
    assert next_trials([], heights, GRID, OPTIONS) == first
