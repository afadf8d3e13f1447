"""The foreign-stream corpus: renditions encoded once by vodpipe's encoder, packaged by other
tools (FFmpeg's muxers, Shaka Packager) and served by a real ``vodpipe serve``.

The checker must be as right about streams no one here wrote as about our own; every corpus test
starts from these renditions so that only the packaging differs.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from encoder.encode import plan_job, run_job
from encoder.ladder import load_ladder
from ingest.probe import probe
from pipeline.job import source_media
from tests.conftest import FAST_LADDER, vodpipe_env
from tests.processes import Server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import MakeMaster

CORPUS_SECONDS = 8


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
