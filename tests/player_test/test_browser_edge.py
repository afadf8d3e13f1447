"""Real players in Debian's Chromium play through a real nginx edge (``vodpipe edge-config``):
the demo title, where every media request goes through the edge's cache and no object is fetched
from the origin twice however many players ask for it; and a title served from S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from player_test.browser import Playback, verdict, wait_until_playing, watch
from tests.edge import TITLE, Edge, start_edge

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Page

    from tests.conftest import DemoTitle
    from tests.edge import Stack

pytestmark = pytest.mark.integration
PLAYERS = [("hls.js", "hls"), ("dash.js", "dash")]


@pytest.fixture(scope="module")
def edge(demo: DemoTitle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    edge = start_edge(tmp_path_factory.mktemp("edge"), [demo.origin])
    try:
        yield edge
    finally:
        edge.stop()


def _path(entry: dict[str, Any]) -> str:
    """The logged request's path: the players add a CMCD query, which the edge's cache key leaves out."""
    return str(entry["uri"]).split("?", 1)[0]


@pytest.mark.parametrize(("player", "fmt"), PLAYERS, ids=[p for p, _ in PLAYERS])
def test_the_demo_title_plays_through_the_edge(
    demo: DemoTitle, edge: Edge, open_page: Callable[[str], Page], player: str, fmt: str
) -> None:
    page = open_page(f"{edge.url}/play/demo?player={player}&format={fmt}")  # the page comes via the edge too
    playback = watch(page, 4, Playback([wait_until_playing(page)]))
    assert verdict(playback, min_advance=3.0) == []
    assert playback.last["decoded"] >= 60
    media = [e for e in edge.entries() if e["uri"].startswith("/media/demo/")]
    kinds = {_path(e).rsplit(".", 1)[1] for e in media}
    assert {"m4s", "mp4"} <= kinds
    assert {"m3u8"} <= kinds if fmt == "hls" else {"mpd"} <= kinds
    assert {e["status"] for e in media} <= {200, 206, 304}
    assert {e["cache"] for e in media} <= {"MISS", "HIT", "UPDATING", "STALE", "REVALIDATED"}
    upstream: dict[str, int] = {}
    for e in media:
        if e["upstream"] not in ("", "-"):
            upstream[_path(e)] = upstream.get(_path(e), 0) + 1
    assert upstream, "no media request reached the origin through the edge"
    assert max(upstream.values()) == 1, f"objects fetched from the origin more than once: {upstream}"


def test_a_title_on_s3_plays_through_the_edge(
    make_stack: Callable[..., Stack], open_page: Callable[[str], Page]
) -> None:
    stack = make_stack("s3")
    page = open_page(f"{stack.edge.url}/play/{TITLE}?player=hls.js&format=hls")
    playback = watch(page, 3, Playback([wait_until_playing(page)]))
    assert verdict(playback, min_advance=2.0) == []
    media = [e for e in stack.edge.entries() if e["uri"].startswith(f"/media/{TITLE}/")]
    assert {e["status"] for e in media} <= {200, 206, 304}
    assert any(_path(e).endswith(".m4s") and e["upstream"] not in ("", "-") for e in media)
