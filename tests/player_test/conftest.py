"""The foreign-stream corpus: renditions encoded once by vodpipe's encoder, packaged by other
tools (FFmpeg's muxers, Shaka Packager) and served by a real ``vodpipe serve``.

The checker must be as right about streams no one here wrote as about our own; every corpus test
starts from these renditions so that only the packaging differs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from encoder.encode import plan_job, run_job
from encoder.ladder import load_ladder
from ingest.probe import probe
from pipeline.job import source_media
from player_test.browser import CHROMIUM, chromium, open_player
from tests.conftest import ARTIFACTS, FAST_LADDER, vodpipe_env
from tests.processes import Server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Browser, Page

    from tests.conftest import MakeMaster

CORPUS_SECONDS = 8


# Headless Debian Chromium for the browser tests, one per test module, and the pages it opens.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    with chromium() as b:
        yield b


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Page]]:
    """Open player pages; on a failed test, save a screenshot of each to test-artifacts/."""
    pages: list[Page] = []

    def opener(url: str) -> Page:
        page = open_player(browser, url)
        pages.append(page)
        return page

    yield opener
    report = getattr(request.node, "report_call", None)
    for i, page in enumerate(pages):
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"))
        page.close()


@dataclass(frozen=True)
class Renditions:
    """Fragmented-MP4 renditions of one master, as vodpipe's encoder writes them."""

    video: dict[str, Path]  # rung name (360p, 240p) -> file, highest first
    audio: Path  # AAC, 48 kHz stereo
    seconds: float


class QuietRunner:
    """An FFmpegRunner for fixtures: no progress, and every pipe closed (SubprocessRunner leaves
    its pipes to the garbage collector, which pytest's filterwarnings=error turns into errors)."""

    def run(self, args: list[str], total: float, on_progress: object = None) -> None:
        subprocess.run(args, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def renditions(
    make_master: MakeMaster, tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str
) -> Renditions:
    """An 8 s 640x360 master through the fast ladder: 360p and 240p H.264 plus AAC audio."""
    master = make_master("corpus-640x360.mp4", seconds=CORPUS_SECONDS, size="640x360")
    job = plan_job(
        source_media(master, probe(master)), load_ladder(FAST_LADDER), tmp_path_factory.mktemp("corpus")
    )
    encoded = run_job(QuietRunner(), ffmpeg_exe, job, float(CORPUS_SECONDS))
    video = {r.id: r.path for r in encoded if r.kind == "video"}
    (audio,) = [r.path for r in encoded if r.kind == "audio"]
    return Renditions(video, audio, float(CORPUS_SECONDS))


@dataclass(frozen=True)
class ForeignOrigin:
    """A running ``vodpipe serve`` over a data folder that tests publish foreign streams into."""

    url: str  # http://127.0.0.1:PORT
    data_dir: Path

    def folder(self, name: str) -> Path:
        """Where title ``name`` version ``v1`` lives on disk (write the stream's files here)."""
        return self.data_dir / "media" / name / "v1"

    def base(self, name: str) -> str:
        return f"{self.url}/media/{name}/v1"

    def publish(self, name: str, source: Path) -> str:
        """Copy a packaged folder in as title ``name``; returns its base URL."""
        shutil.copytree(source, self.folder(name))
        return self.base(name)


@pytest.fixture(scope="session")
def foreign_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForeignOrigin]:
    root = tmp_path_factory.mktemp("foreign-origin")
    env = vodpipe_env(root)
    (root / "data" / "media").mkdir(parents=True)
    server = Server(["serve", "--host", "127.0.0.1", "--port", "0"], env)
    try:
        line = server.wait_for("origin: serving ")
        url = line.rsplit(" at ", 1)[1].removesuffix("/").removesuffix("/media")
        yield ForeignOrigin(url, root / "data")
    finally:
        assert server.stop() == 0


class _CorsHandler(SimpleHTTPRequestHandler):
    """Static files with the CORS header a browser player needs to fetch a key."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class KeyServer:
    """A key server apart from the origin: AES-128 keys are never published under media/."""

    url: str
    folder: Path

    def put(self, name: str, key: bytes) -> str:
        (self.folder / name).write_bytes(key)
        return f"{self.url}/{name}"


@pytest.fixture(scope="session")
def key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyServer]:
    folder = tmp_path_factory.mktemp("keys")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_CorsHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KeyServer(f"http://127.0.0.1:{server.server_address[1]}", folder)
    finally:
        server.shutdown()
        server.server_close()


# FFmpeg's own hls muxer over the renditions: the HLS half of the corpus.
KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
IV = "1f1e1d1c1b1a19181716151413121110"  # FFmpeg reads the key info IV as bare hex


def ffmpeg_hls(ffmpeg_exe: str, renditions: Renditions, out: Path, *extra: str) -> Path:
    """FFmpeg's hls muxer over the corpus renditions: two video variants sharing an audio group,
    and an audio-only variant alongside (-var_stream_map), 2 s segments."""
    out.mkdir(parents=True)
    inputs = [*renditions.video.values(), renditions.audio]
    args = [ffmpeg_exe, "-loglevel", "error", "-nostdin", "-y"]
    for path in inputs:
        args += ["-i", str(path)]
    args += ["-map", "0:v", "-map", "1:v", "-map", "2:a", "-c", "copy", "-f", "hls", "-hls_time", "2"]
    args += ["-hls_playlist_type", "vod", "-master_pl_name", "master.m3u8", *extra]
    args += ["-var_stream_map", "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud", str(out / "p%v.m3u8")]
    subprocess.run(args, check=True)
    return out


@pytest.fixture(scope="session")
def fmp4(ffmpeg_exe: str, renditions: Renditions, foreign_origin: ForeignOrigin) -> str:
    folder = foreign_origin.folder("ffmpeg-hls-fmp4")
    ffmpeg_hls(
        ffmpeg_exe, renditions, folder, "-hls_segment_type", "fmp4",
        "-hls_fmp4_init_filename", "init_%v.mp4", "-hls_segment_filename", str(folder / "s%v_%03d.m4s"),
    )  # fmt: skip
    return foreign_origin.base("ffmpeg-hls-fmp4")


@pytest.fixture(scope="session")
def single_file(ffmpeg_exe: str, renditions: Renditions, foreign_origin: ForeignOrigin) -> str:
    """-hls_flags single_file: one file per variant, EXT-X-BYTERANGE segments and MAP."""
    folder = foreign_origin.folder("ffmpeg-hls-byterange")
    ffmpeg_hls(
        ffmpeg_exe, renditions, folder, "-hls_segment_type", "fmp4", "-hls_flags", "single_file",
        "-hls_segment_filename", str(folder / "s%v.m4s"),
    )  # fmt: skip
    return foreign_origin.base("ffmpeg-hls-byterange")


@pytest.fixture(scope="session")
def mpegts(ffmpeg_exe: str, renditions: Renditions, foreign_origin: ForeignOrigin) -> str:
    folder = foreign_origin.folder("ffmpeg-hls-ts")
    ffmpeg_hls(ffmpeg_exe, renditions, folder, "-hls_segment_filename", str(folder / "s%v_%03d.ts"))
    return foreign_origin.base("ffmpeg-hls-ts")


@pytest.fixture(scope="session")
def aes128(
    ffmpeg_exe: str,
    renditions: Renditions,
    foreign_origin: ForeignOrigin,
    key_server: KeyServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """-hls_key_info_file: the key's URI on the key server, the key file FFmpeg reads, an IV."""
    key_url = key_server.put("corpus.key", KEY)
    info = tmp_path_factory.mktemp("keyinfo")
    (info / "corpus.key").write_bytes(KEY)
    (info / "key.info").write_text(f"{key_url}\n{info / 'corpus.key'}\n{IV}\n")
    folder = foreign_origin.folder("ffmpeg-hls-aes")
    ffmpeg_hls(
        ffmpeg_exe, renditions, folder, "-hls_segment_filename", str(folder / "s%v_%03d.ts"),
        "-hls_key_info_file", str(info / "key.info"),
    )  # fmt: skip
    return foreign_origin.base("ffmpeg-hls-aes")
