"""Shared fixtures: the FFmpeg binary, generated masters, the fast test ladder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.edge import make_stack, published  # noqa: F401 (fixtures: nginx edge, origin, store)
from tests.s3_server import own_s3_server, s3_server  # noqa: F401 (fixtures: a real S3 server)
from tests.services import redis_url  # noqa: F401 (fixture: a real redis-server)

RESOURCES = Path(__file__).parent / "resources"
FAST_LADDER = RESOURCES / "ladder-fast.toml"

MakeMaster = Callable[..., Path]


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def generate_master(
    ffmpeg_exe: str,
    path: Path,
    *,
    seconds: float = 10,
    size: str = "960x540",
    rate: str = "30",
    audio: bool = True,
    language: str = "eng",
    extra: tuple[str, ...] = (),
    video_filter: str | None = None,
) -> Path:
    """A test-pattern H.264 master made by FFmpeg, optionally with an AAC tone."""
    args = [
        ffmpeg_exe,
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate={rate}",
    ]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", f"{seconds:g}"]
    if video_filter:
        args += ["-vf", video_filter]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-ac", "2", "-metadata:s:a:0", f"language={language}"]
    args += [*extra, "-movflags", "+faststart", str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="session")
def make_master(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> MakeMaster:
    folder = tmp_path_factory.mktemp("masters")

    def make(name: str, **options: object) -> Path:
        path = folder / name
        if not path.exists():
            generate_master(ffmpeg_exe, path, **options)
        return path

    return make


@pytest.fixture(scope="session")
def master_10s(make_master: MakeMaster) -> Path:
    """The 10-second master with audio that the end-to-end tests push through the pipeline."""
    return make_master("master-10s.mp4")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running ``vodpipe`` as a subprocess against a fresh data folder."""
    return vodpipe_env(tmp_path)


def vodpipe_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VODPIPE_")}
    env.update(
        {
            "VODPIPE_DATA_DIR": str(root / "data"),
            "VODPIPE_LADDER": str(FAST_LADDER),
            "VODPIPE_SCRATCH_DIR": str(root),
        }
    )
    return env


@dataclass(frozen=True)
class DemoTitle:
    """The title that ``vodpipe demo`` generates, publishes and serves (one for the session)."""

    origin: str  # http://127.0.0.1:PORT
    player: str  # the /play page
    hls: str
    dash: str
    data_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTitle]:
    """``vodpipe demo`` exactly as the README runs it (with the fast ladder), on a free port."""
    from tests.processes import Server

    root = tmp_path_factory.mktemp("demo")
    env = vodpipe_env(root)
    server = Server(["demo", "--port", "0"], env)
    try:
        player = server.wait_for("player: ")
        hls = server.wait_for("hls: ")
        dash = server.wait_for("dash: ")
        origin = player.split("/play/")[0]
        yield DemoTitle(origin, player, hls, dash, root / "data", env)
    finally:
        assert server.stop() == 0


@dataclass(frozen=True)
class EncryptedDemo:
    """``vodpipe demo --encrypt SCHEME`` on a short 640x360 master, serving with its license routes."""

    scheme: str
    title: str
    origin: str
    player: str  # the /play page, with ?token= as the demo prints it
    token: str
    hls: str
    dash: str
    data_dir: Path
    env: dict[str, str]


def free_port() -> int:
    """A port that was free a moment ago: the encrypted demo writes its license URL into the
    manifests before it listens, so it needs a fixed port rather than 0."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def encrypted_demo(
    tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster
) -> Iterator[Callable[[str], EncryptedDemo]]:
    """One encrypted demo per scheme for the whole session, started on first use."""
    from urllib.parse import parse_qs, urlsplit

    from tests.processes import Server

    master = make_master("master-360p-4s.mp4", seconds=4, size="640x360")
    running: dict[str, tuple[Server, EncryptedDemo]] = {}

    def start(scheme: str) -> EncryptedDemo:
        if scheme not in running:
            root = tmp_path_factory.mktemp(f"demo-{scheme}")
            env = vodpipe_env(root)
            title = f"enc-{scheme}"
            port = str(free_port())
            args = ["demo", str(master), "--title", title, "--encrypt", scheme, "--port", port]
            server = Server(args, env)
            try:
                license_url = server.wait_for("license: ")
                player = server.wait_for("player: ")
                hls, dash = server.wait_for("hls: "), server.wait_for("dash: ")
            except BaseException:
                server.stop()
                raise
            (token,) = parse_qs(urlsplit(player).query)["token"]
            origin = license_url.split("/license/")[0]
            demo = EncryptedDemo(scheme, title, origin, player, token, hls, dash, root / "data", env)
            running[scheme] = (server, demo)
        return running[scheme][1]

    try:
        yield start
    finally:
        for server, _ in running.values():
            assert server.stop() == 0


ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Keep each phase's report on the item, so fixtures can tell a failed test at teardown."""
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


GOLDEN = RESOURCES / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/resources/golden/")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with its golden file; with --update-golden, write it instead."""
    update = bool(request.config.getoption("--update-golden"))

    def compare(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"{path} is missing: run pytest --update-golden and review the diff"
        assert text == path.read_text(), f"{name} differs from its golden file (--update-golden accepts)"

    return compare
