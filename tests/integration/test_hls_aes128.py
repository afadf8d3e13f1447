"""``VODPIPE_HLS_AES128=1``: a cbcs title also published as an HLS METHOD=AES-128 variant set, whose
key (its own, not the cbcs one) the license server hands out only to a token for the title."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import m3u8
import pytest

from drm.tokens import issue_token
from player_test.browser import Playback, chromium, open_player, verdict, wait_until_playing, watch
from player_test.check import check
from tests.conftest import EncryptedDemo, free_port, vodpipe_env
from tests.processes import Server, fetch, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster) -> Iterator[EncryptedDemo]:
    master = make_master("master-360p-4s.mp4", seconds=4, size="640x360")
    root = tmp_path_factory.mktemp("demo-aes128")
    env = vodpipe_env(root) | {"VODPIPE_HLS_AES128": "1"}
    args = ["demo", str(master), "--title", "enc-aes128", "--encrypt", "cbcs", "--port", str(free_port())]
    server = Server(args, env)
    try:
        license_url = server.wait_for("license: ")
        player = server.wait_for("player: ")
        hls, dash = server.wait_for("hls: "), server.wait_for("dash: ")
        (token,) = parse_qs(urlsplit(player).query)["token"]
        origin = license_url.split("/license/")[0]
        yield EncryptedDemo("cbcs", "enc-aes128", origin, player, token, hls, dash, root / "data", env)
    finally:
        assert server.stop() == 0


def aes128_master(demo: EncryptedDemo) -> str:
    return urljoin(demo.hls, "master-aes128.m3u8")


def key_uri(demo: EncryptedDemo) -> str:
    master = m3u8.loads(fetch(aes128_master(demo)).body.decode(), uri=aes128_master(demo))
    media_url = urljoin(aes128_master(demo), master.playlists[0].uri)
    keys = {(k.method, k.uri) for k in m3u8.loads(fetch(media_url).body.decode()).keys if k}
    assert len(keys) == 1
    ((method, uri),) = keys
    assert method == "AES-128"
    return str(uri)


def status_of(url: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_check_with_the_token_decrypts_every_file_and_decodes(demo: EncryptedDemo) -> None:
    report = check(aes128_master(demo), demo.token)
    assert report.errors == []
    master = m3u8.loads(fetch(aes128_master(demo)).body.decode())
    assert len(report.renditions) == len(master.playlists) + len(master.media)
    assert {r.kind for r in report.renditions} == {"video", "audio"}
    assert all((r.frames or 0) > 0 for r in report.renditions)
    # The init segment and every media segment of each rendition were decrypted with the key.
    decrypted = {f.url for f in report.findings if f.rule == "encryption" and f.ok and "/index" not in f.url}
    files = set()
    for uri in [p.uri for p in master.playlists] + [m.uri for m in master.media]:
        media_url = urljoin(aes128_master(demo), uri)
        playlist = m3u8.loads(fetch(media_url).body.decode())
        uris = [playlist.segments[0].init_section.uri, *playlist.segments.uri]
        files |= {urljoin(media_url, u) for u in uris}
    assert decrypted == files


def test_the_variant_has_its_own_key_not_the_cbcs_one(demo: EncryptedDemo) -> None:
    uri = key_uri(demo)
    assert uri.startswith(f"{demo.origin}/license/aes128/")
    found = re.search(r'cenc:default_KID="([0-9a-f-]{36})"', fetch(demo.dash).body.decode())
    assert found is not None
    assert uri.rsplit("/", 1)[1] != uuid.UUID(found.group(1)).hex
    status, key = status_of(uri, demo.token)
    assert (status, len(key)) == (200, 16)
    master = fetch(aes128_master(demo)).body.decode()
    assert "#EXT-X-I-FRAME-STREAM-INF" not in master
    assert "#EXT-X-SESSION-KEY" not in master


def test_without_a_token_the_key_is_refused_and_the_check_fails(demo: EncryptedDemo) -> None:
    assert status_of(key_uri(demo), None)[0] == 401
    result = run_cli("check", aes128_master(demo), env=demo.env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "401" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_token_for_another_title_gets_no_key(demo: EncryptedDemo) -> None:
    secret = (demo.data_dir / ".secrets/token-secret").read_bytes()
    assert status_of(key_uri(demo), issue_token(secret, "another-title", 60))[0] == 403


def hlsjs_page(demo: EncryptedDemo, token: str) -> str:
    base = demo.player.split("?", 1)[0]
    return f"{base}?{urlencode({'player': 'hls.js', 'format': 'hls-aes128', 'token': token})}"


def test_hlsjs_plays_the_aes128_variant_with_the_token_and_not_with_another_titles(
    demo: EncryptedDemo,
) -> None:
    secret = (demo.data_dir / ".secrets/token-secret").read_bytes()
    with chromium() as browser:
        page = open_player(browser, hlsjs_page(demo, demo.token))
        assert page.evaluate("window.vodpipe.url").endswith("/master-aes128.m3u8")
        playback = watch(page, 2, Playback([wait_until_playing(page)]))
        assert verdict(playback, min_advance=1.5) == []
        assert playback.last["decoded"] >= 30
        # The test of the test: a token for another title gets no key, so nothing decodes.
        refused = open_player(browser, hlsjs_page(demo, issue_token(secret, "another-title", 60)))
        state = wait_until_playing(refused)
        assert any(re.search(r"hls\.js: .*key", e, re.IGNORECASE) for e in state["errors"]), state["errors"]
        assert state["decoded"] == 0
