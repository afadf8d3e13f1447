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


def _run(measure: dict[Trial, RatePoint], options: PerTitleOptions = OPTIONS) -> list[list[Trial]]:
    """The passes next_trials asks for, each answered from ``measure``."""
    points: list[RatePoint] = []
    passes = []
    trials = next_trials(points, HEIGHTS, GRID, options)
    while trials:
        passes.append(trials)
        points += [measure[t] for t in trials]
        trials = next_trials(points, HEIGHTS, GRID, options)
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


def test_the_top_resolution_first_then_the_others_and_the_top_rungs_lower_crf() -> None:
    passes = _run(_title())
    assert passes == [
        [(1080, 25), (1080, 31)],
        # 1080p@25 is short of 95 VMAF: its next lower CRF, with the smaller resolutions
        [(720, 25), (720, 31), (540, 25), (540, 31), (1080, 19)],
    ]
    assert sum(map(len, passes)) == 7  # of the grid's 12


def test_a_saturated_top_asks_for_no_lower_crf() -> None:
    title = _title()
    title[(1080, 25)] = _p(4013, 95.5, 1080, 25)
    assert _run(title)[1] == [(720, 25), (720, 31), (540, 25), (540, 31)]


def test_a_still_slide_stops_at_the_top_resolution() -> None:
    slide = {(1080, 25): _p(38, 95.6, 1080, 25), (1080, 31): _p(30, 94.3, 1080, 31)}
    # 95 VMAF for 38 kb/s: the floor (150 kb/s) drops to the top rung, smaller sizes can add nothing
    assert floor_reached(list(slide.values()), OPTIONS)
    assert _run(slide) == [[(1080, 25), (1080, 31)]]


def test_the_top_rung_found_at_a_smaller_resolution_gets_its_lower_crf_in_a_third_pass() -> None:
    # grain: 1080p costs more than the cap at CRF 25, so the top rung is 720p@25
    title = _title()
    title[(1080, 25)] = _p(9000, 88.5, 1080, 25)
    title[(1080, 31)] = _p(1400, 72.0, 1080, 31)
    title[(720, 19)] = _p(5000, 86.0, 720, 19)
    passes = _run(title, PerTitleOptions(crfs=GRID, max_bitrate=8_000_000))
    assert passes[1] == [(720, 25), (720, 31), (540, 25), (540, 31)]
    assert passes[2:] == [[(720, 19)]]


def test_everything_over_the_cap_asks_for_the_next_higher_crf() -> None:
    title = _title()
    options = PerTitleOptions(crfs=GRID, max_bitrate=200_000, min_bitrate=100_000)
    passes = _run(title, options)
    assert passes[-1] == [(540, 37)]  # the cheapest point, 540p@31 at 286 kb/s, one CRF higher


@pytest.mark.parametrize("heights", [(), (720,)], ids=["no-size", "one-size"])
def test_few_sizes(heights: tuple[int, ...]) -> None:
    assert next_trials([], heights, GRID, OPTIONS) == [(h, c) for h in heights[:1] for c in (25, 31)]
