from __future__ import annotations

import itertools

import pytest

from encoder.hull import Crossover, RatePoint, crossovers, hulls_by_resolution, select_rungs, upper_hull
from vodpipe.errors import ConfigError


def _p(kbps: int, quality: float, height: int = 720) -> RatePoint:
    return RatePoint(bitrate=kbps * 1000, quality=quality, height=height)


def test_hull_drops_points_under_a_chord_and_points_a_cheaper_one_beats() -> None:
    points = [_p(500, 60), _p(1000, 70), _p(1500, 85), _p(2500, 90), _p(3000, 89), _p(800, 55)]
    # 1000 kb/s lies under the chord 500 -> 1500; 3000 costs more than 2500 for less;
    # 800 kb/s is beaten by the cheaper 500 kb/s point
    assert upper_hull(points) == [_p(500, 60), _p(1500, 85), _p(2500, 90)]


def test_hull_keeps_the_best_of_equal_rates() -> None:
    assert upper_hull([_p(1000, 70), _p(1000, 80), _p(2000, 90)]) == [_p(1000, 80), _p(2000, 90)]


def test_resolutions_switch_where_their_hulls_cross() -> None:
    # 360p wins at low rates, 720p overtakes it above about 1.2 Mb/s, 1080p at the top
    low = [_p(200, 50, 360), _p(500, 68, 360), _p(1000, 76, 360), _p(2000, 80, 360)]
    mid = [_p(500, 55, 720), _p(1200, 80, 720), _p(2500, 90, 720), _p(5000, 93, 720)]
    high = [_p(1200, 70, 1080), _p(2500, 86, 1080), _p(5000, 96, 1080)]
    per_resolution = hulls_by_resolution([*low, *mid, *high])
    assert sorted(per_resolution) == [360, 720, 1080]
    assert per_resolution[720] == mid
    hull = upper_hull([*low, *mid, *high])
    assert [(p.height, p.bitrate // 1000) for p in hull] == [
        (360, 200),
        (360, 500),
        (720, 1200),
        (720, 2500),
        (1080, 5000),
    ]
    assert crossovers(hull) == [Crossover(1_200_000, 360, 720), Crossover(5_000_000, 720, 1080)]


def _curve() -> list[RatePoint]:
    """A saturating curve: VMAF rises fast, then flattens above 95."""
    return [
        _p(150, 40, 270),
        _p(250, 52, 270),
        _p(400, 63, 360),
        _p(600, 71, 360),
        _p(900, 79, 540),
        _p(1300, 86, 540),
        _p(2000, 92, 720),
        _p(3000, 95.5, 1080),
        _p(4500, 97, 1080),
        _p(6000, 97.5, 1080),
    ]


def test_rungs_stop_where_quality_saturates_and_are_spaced() -> None:
    rungs = select_rungs(upper_hull(_curve()))
    # top: the cheapest point at 95 or more; 2000 kb/s is only 3.5 below it, so the step down
    # goes to 1300 kb/s (a 2.3x step); below that every step is the largest within 2x
    assert [p.bitrate // 1000 for p in rungs] == [150, 250, 400, 600, 900, 1300, 3000]
    for lower, upper in itertools.pairwise(rungs):
        assert upper.quality - lower.quality >= 6.0
        assert upper.bitrate <= 2 * lower.bitrate or (lower.bitrate, upper.bitrate) == (1_300_000, 3_000_000)
    assert rungs[-1].quality >= 95.0


def test_cap_and_bottom_rate_bound_the_ladder() -> None:
    rungs = select_rungs(upper_hull(_curve()), max_bitrate=2_000_000, min_bitrate=300_000)
    assert [p.bitrate // 1000 for p in rungs] == [400, 600, 900, 1300, 2000]


def test_a_quality_floor_lifts_the_bottom_rung() -> None:
    rungs = select_rungs(upper_hull(_curve()), min_quality=70.0)
    assert rungs[0].quality >= 70.0
    assert min(p.quality for p in _curve() if p.quality >= 70.0) == rungs[0].quality


def test_a_static_slide_gets_one_cheap_rung() -> None:
    slide = [_p(40, 96.5, 360), _p(60, 97.5, 540), _p(90, 98.5, 720), _p(150, 99, 1080)]
    assert select_rungs(upper_hull(slide)) == [_p(40, 96.5, 360)]


def test_flat_steps_give_way_to_a_perceptible_step() -> None:
    # between 1000 and 500 kb/s quality barely moves: the next rung down is the dearest point
    # at least 6 VMAF below, even though that is more than a 2x step
    flat = [_p(100, 60), _p(200, 75), _p(500, 88), _p(700, 89), _p(1000, 95)]
    assert [p.bitrate // 1000 for p in select_rungs(upper_hull(flat))] == [100, 200, 500, 1000]


def test_rung_too_close_to_the_bottom_is_dropped() -> None:
    points = [_p(100, 70), _p(180, 74), _p(360, 90), _p(700, 96)]
    assert [p.bitrate // 1000 for p in select_rungs(points)] == [100, 360, 700]


def test_no_point_in_range_is_a_precise_error() -> None:
    with pytest.raises(ConfigError, match="no trial point"):
        select_rungs(upper_hull(_curve()), max_bitrate=100_000)
