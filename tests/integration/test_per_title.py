"""A per-title title through the whole job (in-process, eager): the plan is stored and followed,
every rung's measured quality lands near its hull point, the title checks, and a chunked encode
of the same master gets the same rungs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from encoder.per_title import PerTitlePlan, crf_of
from tests.conftest import vodpipe_env
from tests.processes import Server, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

# A trial and the full encode of one rung differ only by the maxrate cap and forced keyframes:
# their VMAF should agree far better than a rung step (6 points).
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
def run(make_master: MakeMaster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PerTitleRun]:
    master = make_master("per-title-5s.mp4", seconds=5, size="960x540")
    root = tmp_path_factory.mktemp("per-title")
    env = vodpipe_env(root)
    versions = {}
    chunked = {"VODPIPE_ENCODE_WORKERS": "2", "VODPIPE_CHUNK_SECONDS": "2"}
    for title, extra in (("whole", {}), ("chunked", chunked)):
        result = run_cli("ingest", str(master), "--title", title, "--ladder", "per-title", env=env | extra)
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
    assert len(plan.trials) == 3 * 5  # 540p, 360p, 240p of the test ladder x 5 CRFs
    assert plan.chosen
    assert all(p in plan.hull for p in plan.chosen)
    published = [(r["id"], r["height"]) for r in record["renditions"] if r["kind"] == "video"]
    planned = [(r["name"], r["height"]) for r in record["ladder"]]
    assert [name for name, _ in published] == [r.name for r in plan.ladder.rungs]
    assert published == planned
    assert [r["crf"] for r in record["ladder"]] == [r.crf for r in plan.ladder.rungs]
    # the master's 5 s are analysed whole, and nothing of the analysis is public
    assert [(e.start, e.seconds) for e in plan.excerpts] == [(0.0, 5.0)]
    assert not any("reports" in str(p) for p in (run.data / "media").rglob("*"))


def test_every_rung_measures_near_its_hull_point(run: PerTitleRun) -> None:
    record = _record(run.data, "whole")
    plan = _plan(run, "whole")
    quality = {r["id"]: r for r in record["quality"]["rungs"]}
    assert set(quality) == {r.name for r in plan.ladder.rungs}
    for rung in plan.ladder.rungs:
        point = next(p for p in plan.chosen if p.height == rung.height and crf_of(p) == rung.crf)
        measured = quality[rung.name]
        assert abs(measured["vmaf"]["mean"] - point.quality) <= VMAF_BAND, (rung, measured["vmaf"])
        assert measured["vmaf"]["minimum"] <= measured["vmaf"]["p5"] <= measured["vmaf"]["mean"]
        assert 15 < measured["psnr_y"]["mean"] <= 60
        assert len(measured["segments"]) == 2  # 4 s segments of a 5 s title
    reports = run.data / "reports/whole" / run.versions["whole"]
    assert (reports / "quality.svg").read_bytes().startswith(b"<?xml")
    frames = json.loads((reports / "quality.json").read_text())["frames"]
    assert set(frames) == set(quality)


def test_status_shows_the_quality_report(run: PerTitleRun) -> None:
    result = run_cli("status", "whole", env=run.env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["quality"]["rungs"][0]["vmaf"]["mean"] > 0
    assert shown["per_title"]["trials"] == 15


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
