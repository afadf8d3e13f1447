"""``vodpipe serve --workers 2``: a scrape answered by either worker shows every worker's counts,
a dead worker's counts stay in the totals, and the shared metrics folder goes when serving stops."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage.local import LocalStore
from tests.processes import Server

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n"
TRIES = 400  # new connections tried before concluding (each lands on a worker by the kernel's hash)


@pytest.fixture
def temp(tmp_path: Path) -> Path:
    (tmp_path / "tmp").mkdir()
    return tmp_path / "tmp"


@pytest.fixture
def origin(cli_env: dict[str, str], temp: Path) -> Iterator[tuple[Server, str]]:
    LocalStore(Path(cli_env["VODPIPE_DATA_DIR"])).put_bytes("media/demo/v1/master.m3u8", PLAYLIST)
    # The supervisor makes its metrics folder in the temp dir: this test's own.
    env = {**cli_env, "TMPDIR": str(temp), "VODPIPE_ACCESS_LOG": str(temp / "access.log")}
    server = Server(["serve", "--port", "0", "--workers", "2"], env)
    url = server.wait_for("origin: serving ").split(" at ")[1]
    yield server, url.removesuffix("/media/")
    if server.proc.poll() is None:
        server.stop()
    else:
        server.proc.communicate()


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def connection_per_worker(base: str) -> dict[int, http.client.HTTPConnection]:
    """One kept-alive connection to each worker, told apart by the pid /healthz answers."""
    address = urlsplit(base)
    found: dict[int, http.client.HTTPConnection] = {}
    for _ in range(TRIES):
        conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        status, body = get(conn, "/healthz")
        assert status == 200
        pid = json.loads(body)["pid"]
        if pid in found:
            conn.close()
        else:
            found[pid] = conn
        if len(found) == 2:
            break
    assert len(found) == 2
    return found


def manifests_served(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "vodpipe_origin_requests_total" and sample.labels == {
                "status": "200",
                "kind": "manifest",
            }:
                return sample.value
    return 0.0


def scraped_manifests(conn: http.client.HTTPConnection, expected: int = 5, settle: float = 5.0) -> float:
    """The manifest count a scrape shows once every worker has recorded its responses.

    A worker records a response after its last byte is handed to the kernel, batched once per
    loop iteration, so a client can read the response a moment before the count lands in the
    shared files: scrape until the count reaches ``expected`` (a count above it fails the test as
    surely), for at most ``settle`` seconds.
    """
    deadline = time.monotonic() + settle
    while True:
        status, text = get(conn, "/metrics")
        assert status == 200
        served = manifests_served(text.decode())
        if served >= expected or time.monotonic() > deadline:
            return served


def test_any_worker_scrapes_the_totals_of_all(origin: tuple[Server, str], temp: Path) -> None:
    server, base = origin
    workers = connection_per_worker(base)
    (first, a), (second, b) = workers.items()
    for _ in range(3):
        assert get(a, "/media/demo/v1/master.m3u8") == (200, PLAYLIST)
    for _ in range(2):
        assert get(b, "/media/demo/v1/master.m3u8") == (200, PLAYLIST)
    for conn in (a, b):
        assert scraped_manifests(conn) == 5  # 3 served by one worker, 2 by the other

    # Both workers write into one fresh folder that only this user can read.
    (folder,) = temp.glob("vodpipe-metrics-*")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name for p in folder.iterdir()} >= {f"counter_{first}.db", f"counter_{second}.db"}

    # A killed worker's counts stay in the totals once the supervisor has restarted it.
    for conn in workers.values():
        conn.close()
    os.kill(first, signal.SIGKILL)
    assert server.proc.stderr is not None
    for line in server.proc.stderr:  # the supervisor's handshake, not a sleep
        if re.search(r"worker \d+ ready", line):
            break
    for conn in connection_per_worker(base).values():
        assert scraped_manifests(conn) == 5
        conn.close()

    assert server.stop() == 0
    assert not folder.exists()  # removed when the supervisor exits

    # Both workers appended to one access log: whole JSON lines, none interleaved. The killed
    # worker's lines were written while it sat idle waiting for the requests that followed them.
    lines = [json.loads(line) for line in (temp / "access.log").read_text().splitlines()]
    manifests = [line for line in lines if line["kind"] == "manifest"]
    assert len(manifests) == 5
    assert all(line["status"] == 200 and line["bytes"] == len(PLAYLIST) for line in manifests)
    assert sum(line["kind"] == "metrics" for line in lines) >= 2  # the two after the restart at least
