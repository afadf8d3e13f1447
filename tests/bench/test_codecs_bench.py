from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.processes import run_cli

if TYPE_CHECKING:
    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration


def test_bench_codecs_reports_time_bits_and_quality_per_codec(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("bench-codecs-2s.mp4", seconds=2, size="426x240", rate="25")
    args = ("bench", "codecs", "--master", str(master), "--codecs", "h264,av1", "--vmaf-every", "10")
    result = run_cli(*args, env=cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "codecs"
    assert list(report["codecs"]) == ["h264", "av1"]
    h264, av1 = report["codecs"]["h264"], report["codecs"]["av1"]
    assert [(r["rung"], r["size"], r["target_kbps"], r["frames"]) for r in av1["rungs"]] == [
        ("240p-av1", "426x240", 240, 50)
    ]
    assert [r["rung"] for r in h264["rungs"]] == ["240p"]
    assert 0 < av1["rungs"][0]["vmaf_mean"] <= 100
    # Seconds are reported to the millisecond and the ratio (to 0.01) from the unrounded times.
    low = (av1["wall_seconds"] - 0.0005) / (h264["wall_seconds"] + 0.0005) - 0.005
    high = (av1["wall_seconds"] + 0.0005) / (h264["wall_seconds"] - 0.0005) + 0.005
    assert low <= av1["ratio_wall_over_h264"] <= high
    assert av1["ratio_kbps_over_h264"] == pytest.approx(av1["total_kbps"] / h264["total_kbps"], rel=0.01)
    assert h264["ratio_kbps_over_h264"] == 1.0
    assert av1["cpu_seconds"] > 0
    assert av1["ratio_cpu_over_h264"] == pytest.approx(av1["cpu_seconds"] / h264["cpu_seconds"], rel=0.1)
