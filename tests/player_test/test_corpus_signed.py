"""Signed titles made by other tools: the foreign corpus (FFmpeg's hls and dash muxers, Shaka
Packager) served by a real ``vodpipe serve`` that requires signatures, checked from one signed
manifest URL. Every request the checker makes follows a URI the origin rewrote, so a URI the
rewriting missed is a 403 and a fetch error."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

import pytest

from origin.access import write_signed_urls
from origin.signing import sign_url
from player_test.check import check
from storage.local import LocalStore
from tests.conftest import vodpipe_env
from tests.player_test.dash_corpus import HAS_HLS, STREAMS, publish
from tests.processes import Server, fetch

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.player_test.conftest import ForeignOrigin, Renditions

pytestmark = pytest.mark.integration
KEY = "corpus-signing-key-of-at-least-32-bytes"
FFMPEG_HLS = ["fmp4", "single_file", "mpegts"]  # fixtures of tests/player_test/conftest.py


class SignedOrigin:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url, self.data_dir = url, data_dir

    def add(self, title: str, folder: Path) -> str:
        """Serve a copy of ``folder`` as ``title`` v1, signed URLs only; its base URL."""
        target = self.data_dir / "media" / title / "v1"
        if not target.exists():
            write_signed_urls(LocalStore(self.data_dir), title, True)  # before its media, as ingest does
            shutil.copytree(folder, target)
        return f"{self.url}/media/{title}/v1"


@pytest.fixture(scope="module")
def signed_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedOrigin]:
    root = tmp_path_factory.mktemp("signed-origin")
    env = vodpipe_env(root) | {"VODPIPE_URL_SIGNING_KEY": KEY}
    (root / "data" / "media").mkdir(parents=True)
    server = Server(["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1"], env)
    try:
        line = server.wait_for("origin: serving ")
        yield SignedOrigin(line.rsplit(" at ", 1)[1].removesuffix("/").removesuffix("/media"), root / "data")
    finally:
        assert server.stop() == 0


def _check_signed(url: str, original: str) -> None:
    """The signed copy checks as the unsigned original does on the foreign origin."""
    assert fetch(url).status == 403  # the test of the test: unsigned, nothing is served
    signed = check(sign_url(KEY.encode(), url, 600, time.time()))
    assert signed.errors == [], [f.line() for f in signed.errors]
    plain = check(original)
    assert {f.rule for f in signed.warnings} == {f.rule for f in plain.warnings}
    assert [(r.kind, r.segments, r.frames) for r in signed.renditions] == [
        (r.kind, r.segments, r.frames) for r in plain.renditions
    ]
    assert len([r for r in signed.renditions if r.kind == "video"]) == 2


@pytest.mark.parametrize("name", list(STREAMS))
def test_check_passes_foreign_dash_served_signed(
    signed_origin: SignedOrigin,
    foreign_origin: ForeignOrigin,
    renditions: Renditions,
    ffmpeg_exe: str,
    name: str,
) -> None:
    publish(name, renditions, foreign_origin, ffmpeg_exe)
    base = signed_origin.add(f"signed-{name}", foreign_origin.folder(name))
    _check_signed(f"{base}/manifest.mpd", f"{foreign_origin.base(name)}/manifest.mpd")
    if name in HAS_HLS:
        _check_signed(f"{base}/master.m3u8", f"{foreign_origin.base(name)}/master.m3u8")


@pytest.mark.parametrize("fixture", FFMPEG_HLS)
def test_check_passes_ffmpeg_hls_served_signed(
    signed_origin: SignedOrigin, foreign_origin: ForeignOrigin, request: pytest.FixtureRequest, fixture: str
) -> None:
    name = request.getfixturevalue(fixture).rsplit("/", 2)[1]  # the fixture publishes, returns its base
    base = signed_origin.add(f"signed-{name}", foreign_origin.folder(name))
    _check_signed(f"{base}/master.m3u8", f"{foreign_origin.base(name)}/master.m3u8")
