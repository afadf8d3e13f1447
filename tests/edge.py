"""A real nginx edge (Debian's package) for tests, configured by ``vodpipe edge-config``'s code,
and the whole stack behind it: ``vodpipe serve`` over a small published title, on the local
store or on S3 (a moto server).

Everything it writes (pid, logs, temp files, the cache) stays under the test's folder, so it runs
as any user; readiness is a TCP connect that succeeds (a probe, no sleep), and the access log's
JSON lines tell which requests reached an origin.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from origin.edge_config import EdgeSettings, edge_config
from tests.processes import Server, fetch, run_cli
from tests.s3_server import S3Server
from tests.services import LoggedProcess, TcpProxy, free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.conftest import MakeMaster

NGINX_WORKERS = 2  # more than one: the cache lock must hold across worker processes
TITLE = "edgefilm"
# Manifests live at the edge for the origin's max-age; long enough here that a slow machine never
# sees one expire between two passes of a test (expiry is nginx's, tested by nginx).
MANIFEST_MAX_AGE = "600"


@dataclass
class Edge:
    url: str  # http://127.0.0.1:PORT
    folder: Path
    process: LoggedProcess

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def entries(self, until: Callable[[list[dict[str, Any]]], bool] | None = None) -> list[dict[str, Any]]:
        """The access log's lines; with ``until``, read again until it holds (nginx logs each request
        just after answering it, so a client can be a moment ahead of the log)."""
        for _ in range(500):
            text = self.access_log.read_text() if self.access_log.exists() else ""
            lines = [json.loads(line) for line in text.splitlines()]
            if until is None or until(lines):
                return lines
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.proc.wait(timeout=0.02)  # a pause that also notices nginx dying
        raise AssertionError(f"the edge's access log never matched; see {self.access_log}")

    def stop(self) -> None:
        self.process.stop()


def start_edge(folder: Path, origins: list[str]) -> Edge:
    exe = shutil.which("nginx")
    if exe is None:
        pytest.fail("nginx is not installed (apt-get install nginx; see .ci/run)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = EdgeSettings(
        tuple(origins),
        listen=f"127.0.0.1:{port}",
        cache_dir=str(folder / "cache"),
        workers=str(NGINX_WORKERS),
        run_dir=str(folder),
        user=getpass.getuser() if os.geteuid() == 0 else None,  # root's workers would be nobody
    )
    conf = folder / "nginx.conf"
    conf.write_text(edge_config(settings))
    process = LoggedProcess([exe, "-c", str(conf), "-p", str(folder), "-e", "stderr"], folder / "nginx.log")
    while process.proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return Edge(f"http://127.0.0.1:{port}", folder, process)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(timeout=0.05)
    process.stop()
    raise AssertionError(f"nginx exited ({process.proc.returncode}): {(folder / 'nginx.log').read_text()}")


@dataclass(frozen=True)
class Published:
    """One small title, encoded once for the module into a local data folder."""

    root: Path  # media/edgefilm/{version} on disk
    prefix: str  # /media/edgefilm/{version}

    def files(self) -> dict[str, bytes]:
        """Every object of the title by its URL path: manifests, inits and segments."""
        return {
            f"{self.prefix}/{p.relative_to(self.root).as_posix()}": p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }

    def segment(self, n: int = 1, rung: str = "360p") -> str:
        return f"{self.prefix}/video/{rung}/seg-{n:05d}.m4s"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster) -> Published:
    from tests.conftest import vodpipe_env  # here: tests.conftest imports this module

    root = tmp_path_factory.mktemp("edge-title")
    master = make_master("master-6s-360p.mp4", seconds=6, size="640x360")
    result = run_cli("ingest", str(master), "--title", TITLE, env=vodpipe_env(root))
    assert result.returncode == 0, result.stderr
    hls = re.search(r"^hls: \S+/media/(\S+)/master\.m3u8$", result.stdout, re.M)
    assert hls, result.stdout
    folder = root / "data" / "media" / hls.group(1)
    return Published(folder, f"/media/{hls.group(1)}")


@dataclass
class Stack:
    """nginx edge -> vodpipe serve -> store (a local folder, or S3 on its own moto server, reached
    through a link that can be cut: moto keeps its objects in memory, so it must stay up)."""

    edge: Edge
    origins: list[Server]
    origin_urls: list[str]
    store_link: TcpProxy | None

    @property
    def origin(self) -> Server:
        return self.origins[0]

    @property
    def origin_url(self) -> str:
        return self.origin_urls[0]

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return fetch(f"{self.edge.url}{path}", headers)

    def upstream(self, path: str) -> list[dict[str, Any]]:
        """The access-log lines of ``path`` that went to an origin."""
        return [e for e in self.edge.entries() if e["uri"] == path and e["upstream"] not in ("", "-")]


def _stop_if_running(server: Server) -> None:
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture
def make_stack(tmp_path: Path, published: Published) -> Iterator[Callable[..., Stack]]:
    from tests.conftest import vodpipe_env  # here: tests.conftest imports this module

    cleanup = contextlib.ExitStack()  # whatever started is stopped, even if a later start fails

    def make(
        store: str, manifest_max_age: str = MANIFEST_MAX_AGE, origins: int = 1, **settings: str
    ) -> Stack:
        """``settings``: more ``VODPIPE_*`` variables for the origins (``url_signing_key=...``)."""
        env = vodpipe_env(tmp_path) | {"VODPIPE_MANIFEST_MAX_AGE": manifest_max_age}
        env |= {f"VODPIPE_{name.upper()}": value for name, value in settings.items()}
        link = None
        if store == "s3":
            s3 = S3Server(tmp_path / "moto.log")
            s3.start()
            cleanup.callback(s3.stop)
            bucket = s3.new_store()
            for path in published.files():  # the published objects, as the job writes them
                key = path.removeprefix("/")
                bucket.put_file(key, published.root / key.removeprefix(published.prefix[1:] + "/"))
            link = TcpProxy(s3.port)
            link.start()
            cleanup.callback(link.stop)
            env |= s3.env(bucket.bucket) | {
                "VODPIPE_S3_ENDPOINT_URL": f"http://127.0.0.1:{link.port}",
                "VODPIPE_S3_MAX_ATTEMPTS": "2",
            }
        else:
            env["VODPIPE_DATA_DIR"] = str(published.root.parents[2])
        servers, urls = [], []
        for _ in range(origins):
            server = Server(["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1"], env)
            cleanup.callback(_stop_if_running, server)
            line = server.wait_for("origin: serving ")
            servers.append(server)
            urls.append(line.rsplit(" at ", 1)[1].removesuffix("/media/"))
        edge = start_edge(tmp_path / "edge", urls)
        cleanup.callback(edge.stop)
        return Stack(edge, servers, urls, link)

    with cleanup:
        yield make
