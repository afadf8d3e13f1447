"""The generated masters through the real per-title job: each gets the ladder its content asks
for (the slide fewer, cheaper rungs than the test pattern; the noisy one more bits at the top),
and every per-title title passes ``vodpipe check`` and plays in hls.js, dash.js and Shaka."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.masters import KINDS, make_masters
from encoder.per_title import PerTitlePlan
from encoder.runner import SubprocessRunner
from player_test.browser import Playback, verdict, wait_until_playing, watch
from tests.conftest import vodpipe_env
from tests.player_test.conftest import browser, open_page  # noqa: F401 (fixtures: Chromium and its pages)
from tests.processes import Server, run_cli

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Page

    from encoder.ladder import Ladder

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class SetRun:
    env: dict[str, str]
    origin: str
    versions: dict[str, str]  # kind -> published version
    ladders: dict[str, Ladder]  # kind -> the per-title ladder its plan chose


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Iterator[SetRun]:
    root = tmp_path_factory.mktemp("ladder-set")
    masters = make_masters(SubprocessRunner(), ffmpeg_exe, root / "masters", size=(960, 540), seconds=3)
    # the quality report is the bench's business, not this test's: off, to save the VMAF passes
    env = vodpipe_env(root) | {"VODPIPE_QUALITY": "off"}
    data = Path(env["VODPIPE_DATA_DIR"])
    versions, ladders = {}, {}
    for kind, master in masters.items():
        result = run_cli("ingest", str(master), "--title", kind, "--ladder", "per-title", env=env)
        assert result.returncode == 0, result.stderr
        found = re.search(rf"/media/{kind}/(v\w+)/master.m3u8", result.stdout)
        assert found, result.stdout
        versions[kind] = found.group(1)
        record = json.loads((data / f"catalog/titles/{kind}.json").read_text())
        ladders[kind] = PerTitlePlan.from_json((data / record["per_title"]["plan"]).read_text()).ladder
    server = Server(["serve", "--port", "0"], env)
    try:
        origin = server.wait_for("origin: ").split(" at ")[1].removesuffix("/media/")
        yield SetRun(env, origin, versions, ladders)
    finally:
        server.stop()


def _top(ladder: Ladder) -> int:
    return max(r.bitrate for r in ladder.rungs)


def test_the_slide_gets_fewer_cheaper_rungs_than_the_test_pattern(published: SetRun) -> None:
    slide, pattern = published.ladders["slide"], published.ladders["pattern"]
    assert len(slide.rungs) <= len(pattern.rungs), (slide, pattern)
    assert _top(slide) < _top(pattern) / 2, (slide, pattern)
    assert sum(r.bitrate for r in slide.rungs) < sum(r.bitrate for r in pattern.rungs)


def test_the_noisy_master_gets_more_bits_at_the_top_than_the_test_pattern(published: SetRun) -> None:
    noisy, pattern = published.ladders["noisy"], published.ladders["pattern"]
    assert _top(noisy) > _top(pattern), (noisy, pattern)


@pytest.mark.parametrize("kind", KINDS)
def test_every_per_title_title_of_the_set_checks(published: SetRun, kind: str) -> None:
    base = f"{published.origin}/media/{kind}/{published.versions[kind]}"
    for manifest in ("master.m3u8", "manifest.mpd"):
        result = run_cli("check", f"{base}/{manifest}", env=published.env)
        assert result.returncode == 0, result.stdout + result.stderr


PLAYERS = [("hls.js", "hls"), ("dash.js", "dash"), ("shaka", "dash")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("player", "fmt"), PLAYERS, ids=[f"{p}-{f}" for p, f in PLAYERS])
def test_every_per_title_title_of_the_set_plays(
    published: SetRun,
    open_page: Callable[[str], Page],  # noqa: F811 (the fixture imported above)
    kind: str,
    player: str,
    fmt: str,
) -> None:
    page = open_page(f"{published.origin}/play/{kind}?player={player}&format={fmt}")
    playback = watch(page, 2.5, Playback([wait_until_playing(page)]))
    assert verdict(playback, min_advance=1.5) == []  # of a 3 s title
    assert len(playback.last["ladder"]) == len(published.ladders[kind].rungs)
