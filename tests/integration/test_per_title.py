"""A per-title title through the whole job (in-process, eager): the plan is stored and followed,
every rung's measured quality lands near its hull point, the title checks, and a chunked encode
of the same master gets the same rungs."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from encoder.per_title import PerTitleOptions, PerTitlePlan, crf_of
from tests.conftest import vodpipe_env
from tests.processes import Server, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

# A trial (the middle 2 s, at the encode's preset) and the full encode of one rung differ only by
# the sample and the maxrate cap: their VMAF should agree far better than a rung step (6 points).
VMAF_BAND = 3.0


@dataclass(frozen=True)
class PerTitleRun:
    env: dict[str, str]
    data: Path
    origin: str
    versions: dict[str, str]  # title -> published version


def _record(data: Path, title: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((data / f"catalog/titles/{title}.json").read_text())
    return record


def _plan(run: PerTitleRun, title: str) -> PerTitlePlan:
    return PerTitlePlan.from_json((run.data / _record(run.data, title)["per_title"]["plan"]).read_text())


@pytest.fixture(scope="module")
def run(
    make_master: MakeMaster, ffmpeg_exe: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PerTitleRun]:
    master = make_master("per-title-5s.mp4", seconds=5, size="960x540")
    root = tmp_path_factory.mktemp("per-title")
    slide = root / "slide.mp4"  # near-static: a few kb/s, almost all of it keyframes
    subprocess.run(
        [ffmpeg_exe, "-v", "error", "-f", "lavfi", "-i", "smptebars=size=960x540:rate=30", "-t", "3",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p", str(slide)],
        check=True,
    )  # fmt: skip
    env = vodpipe_env(root)
    versions = {}
    chunked = {"VODPIPE_ENCODE_WORKERS": "2", "VODPIPE_CHUNK_SECONDS": "2"}
    phone = {"VODPIPE_QUALITY_PHONE": "1"}
    for title, path, extra in (("whole", master, phone), ("chunked", master, chunked), ("slide", slide, {})):
        result = run_cli("ingest", str(path), "--title", title, "--ladder", "per-title", env=env | extra)
        assert result.returncode == 0, result.stderr
        found = re.search(rf"/media/{title}/(v\w+)/master.m3u8", result.stdout)
        assert found, result.stdout
        versions[title] = found.group(1)
    server = Server(["serve", "--port", "0"], env)
    try:
        origin = server.wait_for("origin: ").split(" at ")[1].removesuffix("/media/")
        yield PerTitleRun(env, Path(env["VODPIPE_DATA_DIR"]), origin, versions)
    finally:
        server.stop()


def test_the_plan_is_stored_with_the_title_and_the_published_ladder_is_its_choice(run: PerTitleRun) -> None:
    record = _record(run.data, "whole")
    assert record["ladder_mode"] == "per-title"
    plan = _plan(run, "whole")
    reports = run.data / "reports/whole" / run.versions["whole"]
    assert (reports / "hull.svg").read_bytes().startswith(b"<?xml")
    # 540p and 360p of the test ladder at the grid's inner CRFs, the grid's ends only where the
    # top rung asks for more quality: well under the whole grid (3 x 4); 240p, which only serves
    # the bottom rung, only where the larger sizes leave every point over a rung step (2x) above
    # the floor
    heights = {p.height for p in plan.trials}
    assert {540, 360} <= heights <= {540, 360, 240}
    cheapest = min(p.bitrate for p in plan.trials if p.height > 240)
    options = PerTitleOptions()
    assert (240 in heights) == (cheapest > options.max_ratio * options.min_bitrate)
    assert 2 * 2 <= len(plan.trials) < 3 * 4
    assert plan.chosen
    assert all(p in plan.hull for p in plan.chosen)
    published = [(r["id"], r["height"]) for r in record["renditions"] if r["kind"] == "video"]
    planned = [(r["name"], r["height"]) for r in record["ladder"]]
    assert [name for name, _ in published] == [r.name for r in plan.ladder.rungs]
    assert published == planned
    assert [r["crf"] for r in record["ladder"]] == [r.crf for r in plan.ladder.rungs]
    # the master's 5 s are sampled (its middle 2 s, one GOP), and nothing of the analysis is public
    assert [(e.start, e.seconds) for e in plan.excerpts] == [(1.5, 2.0)]
    assert not any("reports" in str(p) for p in (run.data / "media").rglob("*"))


@pytest.mark.parametrize("title", ["whole", "slide"])
def test_every_rung_measures_near_its_hull_point(run: PerTitleRun, title: str) -> None:
    record = _record(run.data, title)
    plan = _plan(run, title)
    quality = {r["id"]: r for r in record["quality"]["rungs"]}
    assert set(quality) == {r.name for r in plan.ladder.rungs}
    for rung in plan.ladder.rungs:
        point = next(p for p in plan.chosen if p.height == rung.height and crf_of(p) == rung.crf)
        measured = quality[rung.name]
        assert abs(measured["vmaf"]["mean"] - point.quality) <= VMAF_BAND, (rung, measured["vmaf"])
        assert measured["vmaf"]["minimum"] <= measured["vmaf"]["p5"] <= measured["vmaf"]["mean"]
        assert 15 < measured["psnr_y"]["mean"] <= 60
        assert len(measured["segments"]) == (2 if title == "whole" else 1)  # 4 s segments
    reports = run.data / "reports" / title / run.versions[title]
    assert (reports / "quality.svg").read_bytes().startswith(b"<?xml")
    frames = json.loads((reports / "quality.json").read_text())["frames"]
    assert set(frames) == set(quality)


def test_small_rungs_are_also_scored_with_the_phone_model_when_asked(run: PerTitleRun) -> None:
    """VODPIPE_QUALITY_PHONE=1 (the "whole" title): rungs up to 360p get vmaf_phone, which rates
    the same pictures higher (seen on a phone, artefacts are smaller); larger rungs do not."""
    heights = {r["name"]: r["height"] for r in _record(run.data, "whole")["ladder"]}
    rungs = _record(run.data, "whole")["quality"]["rungs"]
    assert any(heights[r["id"]] <= 360 for r in rungs)
    for rung in rungs:
        if heights[rung["id"]] <= 360:
            assert rung["vmaf_phone"]["mean"] >= rung["vmaf"]["mean"], rung
            assert len(rung["segments"]) == 2
            assert all("vmaf_phone" in s for s in rung["segments"])
        else:
            assert "vmaf_phone" not in rung
    assert all("vmaf_phone" not in r for r in _record(run.data, "chunked")["quality"]["rungs"])


def test_status_shows_the_quality_report(run: PerTitleRun) -> None:
    table = run_cli("status", "whole", env=run.env)
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines() if line}
    assert rows["rendition"][-5:] == ["VMAF", "p5", "min", "PSNR-Y", "phone"]  # phone: asked for
    video = [r for r in rows.values() if r[1].startswith("avc1.")]
    assert video
    assert all(0 < float(r[5]) <= 100 for r in video)  # every video rung shows its VMAF
    assert rows["ladder"][1] == "per-title:"
    result = run_cli("status", "whole", "--json", env=run.env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["quality"]["rungs"][0]["vmaf"]["mean"] > 0
    assert shown["per_title"]["trials"] == len(_plan(run, "whole").trials)


def test_the_per_title_title_checks(run: PerTitleRun) -> None:
    base = f"{run.origin}/media/whole/{run.versions['whole']}"
    for manifest in ("master.m3u8", "manifest.mpd"):
        result = run_cli("check", f"{base}/{manifest}", env=run.env)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_chunked_encode_gets_the_same_rungs(run: PerTitleRun) -> None:
    whole, chunked = _record(run.data, "whole"), _record(run.data, "chunked")
    assert _plan(run, "chunked").ladder == _plan(run, "whole").ladder
    assert chunked["ladder"] == whole["ladder"]
    shape = [(r["id"], r["width"], r["height"], r["segments"]) for r in chunked["renditions"]]
    assert shape == [(r["id"], r["width"], r["height"], r["segments"]) for r in whole["renditions"]]
    mpd = f"{run.origin}/media/chunked/{run.versions['chunked']}/manifest.mpd"
    result = run_cli("check", mpd, env=run.env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_fixed_ladder_is_measured_only_when_quality_is_on(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("quality-fixed-2s.mp4", seconds=2, size="480x270", audio=False)
    data = Path(cli_env["VODPIPE_DATA_DIR"])
    plain = run_cli("ingest", str(master), "--title", "plain", env=cli_env)
    assert plain.returncode == 0, plain.stderr
    assert _record(data, "plain")["quality"] is None
    assert set(_record(data, "plain")["progress"]) == {"encode", "assemble", "package", "publish"}
    measured = run_cli("ingest", str(master), "--title", "measured", env=cli_env | {"VODPIPE_QUALITY": "on"})
    assert measured.returncode == 0, measured.stderr
    record = _record(data, "measured")
    assert record["per_title"] is None
    assert "analyse" not in record["progress"]
    assert record["progress"]["quality"] == 100.0
    (rung,) = record["quality"]["rungs"]
    assert (rung["id"], rung["bitrate"] > 0, rung["frames"]) == ("240p", True, 12)  # 60 frames / 5
    assert not (data / "reports/measured" / record["published_version"] / "plan.json").exists()
