from __future__ import annotations

from pathlib import Path

import pytest

from player_test.abr import Rung, Trace, plot, simulate

TRACES = Path(__file__).parents[2] / "player_test" / "traces"
# Four rungs of 4 s segments, sized as their bitrate says (audio included).
RATES = {"240p": 550_000, "360p": 950_000, "540p": 1_950_000, "720p": 3_150_000}
LADDER = [Rung(name, rate, (rate // 2,) * 15, (4.0,) * 15) for name, rate in RATES.items()]


def constant(kbps: float) -> Trace:
    return Trace("constant", ((0.0, kbps * 1000),))


def test_trace_files_load() -> None:
    for path in TRACES.glob("*.csv"):
        trace = Trace.load(path)
        assert trace.points[0][0] == 0
        assert all(rate > 0 for _, rate in trace.points)
    step = Trace.load(TRACES / "step-down.csv")
    assert step.rate_at(5) == (6_000_000, 12)
    assert step.rate_at(30)[0] == 600_000


def test_download_integrates_over_rate_changes() -> None:
    trace = Trace("t", ((0.0, 1_000_000), (2.0, 500_000)))
    assert trace.download(0, 125_000) == pytest.approx(1.0)  # 1 Mb at 1 Mb/s
    assert trace.download(1, 250_000) == pytest.approx(4.0)  # 1 Mb by 2 s, then 1 Mb at 0.5 Mb/s


def test_a_fast_link_climbs_to_the_top_without_rebuffering() -> None:
    result = simulate(LADDER, constant(20_000))
    assert result.chosen[0] == "240p"  # 80 % of the initial 1 Mb/s estimate fits only 240p
    assert set(result.chosen[1:]) == {"720p"}
    assert result.rebuffer_seconds == 0
    assert result.switches == 1
    assert result.startup_delay == pytest.approx(0.11)  # 2.2 Mb at 20 Mb/s


def test_a_step_down_makes_the_player_switch_down() -> None:
    trace = Trace("step", ((0.0, 8_000_000), (20.0, 1_000_000)))
    result = simulate(LADDER, trace)
    assert "720p" in result.chosen
    assert result.chosen[-1] in ("240p", "360p")
    assert result.switches >= 2


def test_a_link_below_the_lowest_rung_rebuffers() -> None:
    result = simulate(LADDER, constant(300))
    assert set(result.chosen) == {"240p"}
    assert result.rebuffer_seconds > 0
    assert 0 < result.rebuffer_ratio < 1


def test_plot_writes_a_png(tmp_path: Path) -> None:
    trace = Trace.load(TRACES / "mobile-3g.csv")
    path = plot(simulate(LADDER, trace), trace, LADDER, tmp_path / "abr.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000
