"""An H.264 + AV1 title plays in Shaka Player and dash.js with the AV1 rungs chosen.

Debian's Chromium decodes AV1 in Media Source Extensions (dav1d); each player is left to pick
the codec itself from the manifest, and the test reads which one it picked from the player's
own API. A few seconds of playback each: SVT-AV1 on a shared 2-core machine is slow.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from encoder.encode import plan_job, run_job
from encoder.ladder import Ladder, Rung, with_codecs
from ingest.probe import probe
from packager.package import EncodedTrack, package
from pipeline.job import source_media
from player_test.browser import Playback, verdict, wait_until_playing, watch
from tests.player_test.conftest import QuietRunner

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    from tests.conftest import MakeMaster
    from tests.player_test.conftest import ForeignOrigin

pytestmark = pytest.mark.integration

TITLE = "h264-av1"
SECONDS = 8
LADDER = with_codecs(
    Ladder((Rung("360p", 360, 800_000), Rung("240p", 240, 400_000)), preset="ultrafast", av1_preset=10),
    ("h264", "av1"),
    {"av1": 0.6},
)
# The codecs of the active variant, from each player's API.
ACTIVE_CODEC = {
    "shaka": "(() => { const t = window.vodpipe.instance.getVariantTracks().find((v) => v.active);"
    " return t ? t.videoCodec : null; })()",
    "dash.js": "(() => { const r = window.vodpipe.instance.getCurrentRepresentationForType('video');"
    " return r ? r.codecs : null; })()",
}


@pytest.fixture(scope="module")
def title(
    make_master: MakeMaster,
    ffmpeg_exe: str,
    tmp_path_factory: pytest.TempPathFactory,
    foreign_origin: ForeignOrigin,
) -> str:
    """The master encoded into 360p and 240p in H.264 and AV1, packaged, published on the origin."""
    master = make_master("av1-640x360.mp4", seconds=SECONDS, size="640x360", rate="25")
    job = plan_job(source_media(master, probe(master)), LADDER, tmp_path_factory.mktemp("av1"))
    encoded = run_job(QuietRunner(), ffmpeg_exe, job, float(SECONDS))
    tracks = [EncodedTrack(r.kind, r.id, r.path, r.language) for r in encoded]
    package(tracks, foreign_origin.folder(TITLE), Fraction(2))
    return TITLE


def test_chromium_decodes_av1_in_media_source(
    open_page: Callable[[str], Page], foreign_origin: ForeignOrigin, title: str
) -> None:
    page = open_page(f"{foreign_origin.url}/play/{title}?player=shaka&format=dash")
    supported = "MediaSource.isTypeSupported('video/mp4; codecs=\"{}\"')"
    assert page.evaluate(supported.format("av01.0.01M.08")) is True
    assert page.evaluate(supported.format("hvc1.1.6.L90.90")) is False  # why HEVC is checked by bytes


@pytest.mark.parametrize(
    ("player", "fmt"),
    [("shaka", "dash"), ("shaka", "hls"), ("dash.js", "dash")],
    ids=["shaka-dash", "shaka-hls", "dashjs"],
)
def test_the_player_picks_av1_and_plays(
    open_page: Callable[[str], Page], foreign_origin: ForeignOrigin, title: str, player: str, fmt: str
) -> None:
    page = open_page(f"{foreign_origin.url}/play/{title}?player={player}&format={fmt}")
    playback = watch(page, 3, Playback([wait_until_playing(page)]))
    # Dropped frames measure this shared 2-core machine's load, not the stream: allow a quarter.
    assert verdict(playback, min_advance=2.0, max_dropped=0.25) == []
    codec = page.evaluate(ACTIVE_CODEC[player])
    assert isinstance(codec, str)
    assert codec.startswith("av01."), codec
