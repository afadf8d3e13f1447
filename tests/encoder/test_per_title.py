from __future__ import annotations

import itertools

import pytest

from encoder.hull import RatePoint
from encoder.ladder import Ladder, Rung, SourceGeometry, load_ladder, plan_ladder
from encoder.per_title import (
    Excerpt,
    PerTitleOptions,
    PerTitlePlan,
    TrialSize,
    build_plan,
    choose_excerpts,
    choose_points,
    ladder_for,
    trial_preset,
)
from vodpipe.errors import ConfigError


def _p(kbps: int, quality: float, height: int, crf: int = 23) -> RatePoint:
    return RatePoint(kbps * 1000, quality, height, f"crf={crf}")


def _grid() -> list[RatePoint]:
    """Three resolutions whose hulls cross: 360p up to 500 kb/s, 540p to 1.2 Mb/s, then 720p."""
    return [
        _p(150, 52, 360, 38), _p(280, 66, 360, 33), _p(500, 76, 360, 28), _p(900, 81, 360, 23),
        _p(400, 64, 540, 38), _p(700, 79, 540, 33), _p(1200, 87, 540, 28), _p(2200, 90, 540, 23),
        _p(900, 74, 720, 38), _p(1500, 88, 720, 33), _p(2600, 95.5, 720, 28), _p(4800, 97.5, 720, 23),
    ]  # fmt: skip


BASE = load_ladder(None)


def test_short_titles_are_analysed_whole_and_long_ones_sampled_evenly() -> None:
    options = PerTitleOptions(excerpts=3, excerpt_seconds=2.0, whole_seconds=12.0, sample_fraction=0.05)
    assert choose_excerpts(10.0, options) == (Excerpt(0.0, 10.0),)
    assert choose_excerpts(30.0, options) == (Excerpt(14.0, 2.0),)  # 5 % is under one excerpt
    assert choose_excerpts(80.0, options) == (Excerpt(19.0, 2.0), Excerpt(59.0, 2.0))
    assert choose_excerpts(600.0, options) == (Excerpt(99.0, 2.0), Excerpt(299.0, 2.0), Excerpt(499.0, 2.0))


def test_by_default_even_a_six_second_title_is_sampled() -> None:
    # the analysis costs in proportion to what it samples: one GOP from the middle, not all 6 s
    assert choose_excerpts(6.0, PerTitleOptions()) == (Excerpt(2.0, 2.0),)
    assert choose_excerpts(3.0, PerTitleOptions()) == (Excerpt(0.0, 3.0),)
    assert choose_excerpts(30.0, PerTitleOptions()) == (Excerpt(14.0, 2.0),)
    assert choose_excerpts(60.0, PerTitleOptions()) == (Excerpt(29.0, 2.0),)  # 5 %: one excerpt
    two_minutes = (Excerpt(19.0, 2.0), Excerpt(59.0, 2.0), Excerpt(99.0, 2.0))
    assert choose_excerpts(120.0, PerTitleOptions()) == two_minutes
    assert len(choose_excerpts(3600.0, PerTitleOptions())) == 5  # 10 s of an hour


def test_rungs_lie_on_the_hull_across_resolutions_and_switch_where_it_does() -> None:
    chosen = choose_points(_grid(), PerTitleOptions())
    assert [(p.height, p.bitrate // 1000) for p in chosen] == [
        (360, 150), (360, 280), (360, 500), (540, 1200), (720, 2600),
    ]  # fmt: skip
    assert chosen[-1].quality >= 95  # the top rung is where VMAF saturates, not 4.8 Mb/s
    for low, high in itertools.pairwise(chosen):
        assert high.quality - low.quality >= 6.0


def test_the_cap_bounds_the_top_rung() -> None:
    chosen = choose_points(_grid(), PerTitleOptions(max_bitrate=2_000_000))
    assert chosen[-1] == _p(1200, 87, 540, 28)


def test_the_floor_bounds_the_bottom_rung() -> None:
    chosen = choose_points(_grid(), PerTitleOptions(min_bitrate=400_000))
    assert chosen[0] == _p(500, 76, 360, 28)


def test_the_vmaf_floor_bounds_the_bottom_rung_as_well() -> None:
    # 150 kb/s (VMAF 52) is over the bit floor but under a VMAF floor of 60
    chosen = choose_points(_grid(), PerTitleOptions(min_vmaf=60.0))
    assert chosen[0] == _p(280, 66, 360, 33)
    assert all(p.quality >= 60.0 for p in chosen)


def test_the_vmaf_floor_gives_way_to_a_top_rung_below_it() -> None:
    noisy = [_p(300, 30, 360, 28), _p(900, 38, 540, 28), _p(2500, 44, 720, 28)]
    assert choose_points(noisy, PerTitleOptions(min_vmaf=50.0)) == [_p(2500, 44, 720, 28)]


def test_a_title_cheaper_than_the_floor_gets_one_rung() -> None:
    slide = [_p(20, 96, 360, 28), _p(30, 97, 540, 28), _p(45, 98, 720, 28), _p(12, 90, 360, 38)]
    assert choose_points(slide, PerTitleOptions()) == [_p(20, 96, 360, 28)]


def test_a_grid_wholly_over_the_cap_is_a_precise_error() -> None:
    with pytest.raises(ConfigError, match="above the 100000 b/s cap"):
        choose_points(_grid(), PerTitleOptions(max_bitrate=100_000, min_bitrate=50_000))


def test_the_ladder_encodes_each_rung_at_its_trial_crf_under_its_rate() -> None:
    ladder = ladder_for([_p(280, 66, 360, 33), _p(500, 76, 360, 28), _p(2600, 95.5, 720, 28)], BASE)
    assert ladder.rungs == (
        Rung("720p", 720, 2_600_000, crf=28.0),
        Rung("360p-500k", 360, 500_000, crf=28.0),
        Rung("360p-280k", 360, 280_000, crf=33.0),
    )
    assert (ladder.preset, ladder.gop_seconds, ladder.audio) == (BASE.preset, BASE.gop_seconds, BASE.audio)


def test_a_cheap_crf_rung_keeps_a_buffer_that_holds_its_keyframes() -> None:
    ladder = ladder_for([_p(15, 96, 360, 38), _p(2600, 95.5, 720, 28)], BASE)
    small, large = sorted(plan_ladder(ladder, SourceGeometry(1280, 720)), key=lambda r: r.bitrate)
    assert (small.bitrate, small.maxrate, small.bufsize) == (15_000, 300_000, 400_000)
    assert (large.maxrate, large.bufsize) == (3_900_000, 5_200_000)  # 1.5x and 2x its own rate


def test_trials_never_run_slower_than_the_full_encode() -> None:
    # by default trials run at the encode's own preset, so their rates predict the rungs'
    assert trial_preset(PerTitleOptions(), BASE) == BASE.preset == "veryfast"
    assert trial_preset(PerTitleOptions(trial_preset="superfast"), BASE) == "superfast"
    fast = Ladder(rungs=BASE.rungs, preset="ultrafast")
    assert trial_preset(PerTitleOptions(trial_preset="superfast"), fast) == "ultrafast"


def test_the_plan_round_trips_through_json() -> None:
    sizes = (TrialSize(720, 1280, 720, "720p"), TrialSize(360, 640, 360, "360p"))
    plan = build_plan(_grid(), BASE, PerTitleOptions(), (Excerpt(0.0, 5.0),), sizes, 1.5)
    again = PerTitlePlan.from_json(plan.to_json())
    assert again == plan
    assert again.ladder.rungs[0].crf == 28.0
    assert [c["to_height"] for c in plan.to_dict()["crossovers"]] == [540, 720]
