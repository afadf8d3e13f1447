"""A title served only to signed URLs, end to end: ``vodpipe demo --signed-urls`` on a short
640x360 master, played by real players from the signed page it prints, checked by ``vodpipe
check`` from a signed manifest URL, and refused unsigned (the test of the test)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from player_test.browser import Playback, verdict, wait_until_playing, watch
from tests.conftest import vodpipe_env
from tests.processes import Server, fetch, run_cli

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Page

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration
COMBOS = [("hls.js", "hls"), ("dash.js", "dash"), ("shaka", "hls"), ("shaka", "dash")]
SIGNING_KEY = "a-signing-key-for-the-browser-tests-0123"


class SignedDemo:
    def __init__(self, player: str, hls: str, dash: str, env: dict[str, str]) -> None:
        self.player, self.hls, self.dash, self.env = player, hls, dash, env
        self.origin = player.split("/play/")[0]


@pytest.fixture(scope="module")
def signed_demo(tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster) -> Iterator[SignedDemo]:
    master = make_master("master-360p-4s.mp4", seconds=4, size="640x360")
    env = vodpipe_env(tmp_path_factory.mktemp("demo-signed")) | {"VODPIPE_URL_SIGNING_KEY": SIGNING_KEY}
    server = Server(["demo", str(master), "--title", "signed", "--signed-urls", "--port", "0"], env)
    try:
        player = server.wait_for("player: ")
        demo = SignedDemo(player, server.wait_for("hls: "), server.wait_for("dash: "), env)
    except BaseException:
        server.stop()
        raise
    try:
        yield demo
    finally:
        assert server.stop() == 0


def unsigned(url: str) -> str:
    return url.split("?", 1)[0]


def test_the_demo_prints_signed_urls_and_refuses_unsigned_ones(signed_demo: SignedDemo) -> None:
    for url in (signed_demo.hls, signed_demo.dash):
        assert set(parse_qs(urlsplit(url).query)) == {"exp", "prefix", "sig"}
        assert fetch(url).status == 200
        refused = fetch(unsigned(url))
        assert refused.status == 403
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert json.loads(refused.body)["detail"].startswith("missing signature")


@pytest.mark.parametrize("fmt", ["hls", "dash"])
def test_check_passes_a_signed_title_from_its_signed_manifest_url(signed_demo: SignedDemo, fmt: str) -> None:
    url = signed_demo.hls if fmt == "hls" else signed_demo.dash
    result = run_cli("check", url, "--json", env=signed_demo.env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["renditions"], report
    failed = run_cli("check", unsigned(url), env=signed_demo.env)
    assert failed.returncode == 1
    assert "403" in failed.stdout + failed.stderr


def test_vodpipe_sign_makes_urls_the_origin_accepts(signed_demo: SignedDemo) -> None:
    result = run_cli("sign", unsigned(signed_demo.dash), "--ttl", "120", env=signed_demo.env)
    assert result.returncode == 0, result.stderr
    assert fetch(result.stdout.strip()).status == 200
    other = {**signed_demo.env, "VODPIPE_URL_SIGNING_KEY": "another-key-of-at-least-thirty-two-bytes"}
    forged = run_cli("sign", unsigned(signed_demo.dash), env=other).stdout.strip()
    refused = fetch(forged)
    assert refused.status == 403
    assert json.loads(refused.body)["detail"].startswith("forged signature")


@pytest.mark.parametrize(("player", "fmt"), COMBOS, ids=[f"{p}-{f}" for p, f in COMBOS])
def test_player_plays_the_signed_title_from_the_signed_page(
    signed_demo: SignedDemo, open_page: Callable[[str], Page], player: str, fmt: str
) -> None:
    page = open_page(f"{signed_demo.player}&player={player}&format={fmt}")
    playback = watch(page, 2, Playback([wait_until_playing(page)]))
    # Every fetch must have been signed for it to play at all; dropped frames would measure the
    # shared CPU, not the URLs, so they are not judged here (test_browser.py judges them).
    assert verdict(playback, min_advance=1.5, max_dropped=1.0) == []
    assert playback.last["decoded"] >= 30


@pytest.mark.parametrize(("player", "fmt"), COMBOS[:2], ids=[f"{p}-{f}" for p, f in COMBOS[:2]])
def test_the_unsigned_page_does_not_play(
    signed_demo: SignedDemo, open_page: Callable[[str], Page], player: str, fmt: str
) -> None:
    page = open_page(f"{unsigned(signed_demo.player)}?player={player}&format={fmt}")
    state = wait_until_playing(page)
    assert state["errors"], f"played {state['time']:.1f} s unsigned"
    assert state["decoded"] == 0
