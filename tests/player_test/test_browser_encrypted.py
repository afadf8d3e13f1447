"""Encrypted titles in real players: ClearKey through vodpipe's license server with a token.

One short title per scheme (``vodpipe demo --encrypt``, 640x360, 4 s); each player opens the
page the demo prints (``/play/TITLE?token=...``) and must play it. The test of the test: the same
page with an expired token, or one for another title, must end in the player's DRM error.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from drm.tokens import issue_token
from player_test.browser import Playback, verdict, wait_until_playing, watch

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    from tests.conftest import EncryptedDemo

pytestmark = pytest.mark.integration
COMBOS = [("hls.js", "hls"), ("shaka", "hls"), ("dash.js", "dash"), ("shaka", "dash")]
CASES = [(s, p, f) for s in ("cenc", "cbcs") for p, f in COMBOS]
# What each player reports when the license server refuses (play.js prefixes the player's name).
DRM_ERRORS = {
    "hls.js": r"hls\.js: keySystemError",
    "dash.js": r"dash\.js: .*(licen[cs]e|DRM|key)",
    # Category 6 is DRM. Over HLS, Shaka fetches a KEYFORMAT="identity" key URI as a network
    # request (RequestType.KEY), so a refusal is 1001 BAD_HTTP_STATUS; for cbcs HLS the page makes
    # the license request itself (see play.js).
    "shaka": r"Shaka Player: ((error|load failed, code) (6\d{3}|1001)|ClearKey license request failed)",
}


def page_url(demo: EncryptedDemo, player: str, fmt: str, token: str) -> str:
    base = demo.player.split("?", 1)[0]
    return f"{base}?{urlencode({'player': player, 'format': fmt, 'token': token})}"


@pytest.mark.parametrize(("scheme", "player", "fmt"), CASES, ids=[f"{s}-{p}-{f}" for s, p, f in CASES])
def test_player_plays_the_encrypted_title_with_the_token(
    encrypted_demo: Callable[[str], EncryptedDemo],
    open_page: Callable[[str], Page],
    scheme: str,
    player: str,
    fmt: str,
) -> None:
    demo = encrypted_demo(scheme)
    page = open_page(page_url(demo, player, fmt, demo.token))
    playback = watch(page, 2, Playback([wait_until_playing(page)]))
    assert verdict(playback, min_advance=1.5) == []
    assert playback.last["decoded"] >= 30


@pytest.mark.parametrize(("scheme", "player", "fmt"), CASES, ids=[f"{s}-{p}-{f}" for s, p, f in CASES])
def test_an_expired_token_ends_in_the_players_drm_error(
    encrypted_demo: Callable[[str], EncryptedDemo],
    open_page: Callable[[str], Page],
    scheme: str,
    player: str,
    fmt: str,
) -> None:
    demo = encrypted_demo(scheme)
    secret = (demo.data_dir / ".secrets/token-secret").read_bytes()
    expired = issue_token(secret, demo.title, 60, now=lambda: time.time() - 3600)
    page = open_page(page_url(demo, player, fmt, expired))
    state = wait_until_playing(page)
    assert state["errors"], f"played {state['time']:.1f} s without a key"
    assert any(re.search(DRM_ERRORS[player], e) for e in state["errors"]), state["errors"]
    assert state["decoded"] == 0
