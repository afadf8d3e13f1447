from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.processes import run_cli

if TYPE_CHECKING:
    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration


def test_bench_encode_with_workers_compares_chunked_with_one_process(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("bench-chunked-4s.mp4", seconds=4, size="640x360")
    result = run_cli(
        "bench", "encode", "--master", str(master), "--runs", "1", "--workers", "2", "--chunk-seconds", "2",
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "encode-chunked"
    assert (report["workers"], report["chunks"], report["chunk_frames"]) == (2, 2, 60)
    single, chunked = report["one_process"]["wall_seconds"], report["chunked"]["wall_seconds"]
    assert report["speedup"] == pytest.approx(single / chunked, rel=0.01)
    assert report["efficiency"] == pytest.approx(report["speedup"] / 2, rel=0.01)
    assert report["chunking_overhead"] is None  # only meaningful at N = 1
    assert report["one_process"]["cpu_seconds"] > 0
    single_cpu, chunked_cpu = report["one_process"]["cpu_seconds"], report["chunked"]["cpu_seconds"]
    ratio = chunked_cpu / single_cpu
    # Both CPU times are rounded to 1 ms and the overhead to 0.001 (computed before rounding), so
    # the value recomputed here may differ by the rounding of all three, and no more.
    slack = 0.0005 + ratio * (0.0005 / chunked_cpu + 0.0005 / single_cpu) + 1e-9
    assert report["chunking_cpu_overhead"] == pytest.approx(ratio - 1, abs=slack)


def test_bench_refuses_zero_workers(cli_env: dict[str, str]) -> None:
    result = run_cli("bench", "encode", "--workers", "0", env=cli_env)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "vodpipe: error: --workers must be at least 1, got 0",
    )
