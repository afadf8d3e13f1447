from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.package import BENCH_KID, compile_bytecode, shaka_args, vodpipe_args
from tests.processes import run_cli

if TYPE_CHECKING:
    from tests.conftest import MakeMaster

RENDITIONS = [("video", "360p", Path("/r/v.mp4")), ("audio", "en", Path("/r/a.mp4"))]


@pytest.mark.parametrize("mode", ["clear", "cenc", "cbcs"])
def test_both_sides_get_the_same_renditions_and_mode(mode: str) -> None:
    shaka = shaka_args(RENDITIONS, Path("/out"), mode, Fraction(4))
    assert shaka[1].startswith("in=/r/v.mp4,stream=video,init_segment=/out/video/360p/init.mp4")
    assert shaka[2].startswith("in=/r/a.mp4,stream=audio,")
    assert shaka[shaka.index("--segment_duration") + 1] == "4.0"
    encrypted = "--enable_raw_key_encryption" in shaka
    assert encrypted == (mode != "clear")
    if encrypted:
        assert shaka[shaka.index("--protection_scheme") + 1] == mode
        assert f"key_id={BENCH_KID.hex()}" in shaka[shaka.index("--keys") + 1]
    ours = vodpipe_args(RENDITIONS, Path("/out"), mode, Fraction(4))
    specs = ["video:360p:/r/v.mp4", "audio:en:/r/a.mp4"]
    assert ours[1:] == ["-m", "bench.package_child", mode, "/out", "4", *specs]


def test_the_timed_child_imports_nothing_only_the_harness_needs() -> None:
    code = "import sys, bench.package_child; print(sorted(set(sys.argv[1:]) & set(sys.modules)))"
    harness = ["bench.package", "bench.shaka", "statistics", "subprocess", "importlib.resources"]
    out = subprocess.run([sys.executable, "-c", code, *harness], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_compile_bytecode_writes_the_childs_modules_as_pip_would() -> None:
    import packager.cenc

    cached = Path(importlib.util.cache_from_source(str(packager.cenc.__file__)))
    cached.unlink(missing_ok=True)
    compile_bytecode()
    assert cached.is_file()


@pytest.mark.integration
def test_bench_package_prints_every_mode_for_both_tools(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("bench-pkg-2s.mp4", seconds=2, size="640x360")
    result = run_cli("bench", "package", "--master", str(master), "--runs", "1", env=cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "package"
    assert report["renditions"] == ["video 360p", "video 240p", "audio en"]
    assert set(report["modes"]) == {"clear", "cenc", "cbcs"}
    for mode in report["modes"].values():
        for side in ("vodpipe", "shaka_packager"):
            assert mode[side]["wall_seconds"] > 0
            assert mode[side]["cpu_seconds"] > 0
            assert mode[side]["peak_rss_mb"] > 1
            assert mode[side]["mb_per_s"] == pytest.approx(
                report["input_mb"] / mode[side]["wall_seconds"], rel=0.05
            )
        ratio = mode["vodpipe"]["wall_seconds"] / mode["shaka_packager"]["wall_seconds"]
        assert mode["ratio_wall_vodpipe_over_shaka"] == pytest.approx(ratio, rel=0.01)
        cpu_ratio = mode["vodpipe"]["cpu_seconds"] / mode["shaka_packager"]["cpu_seconds"]
        assert mode["ratio_cpu_vodpipe_over_shaka"] == pytest.approx(cpu_ratio, rel=0.05)
