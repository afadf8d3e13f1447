"""``vodpipe serve --workers N`` as real processes: both answer, a killed worker comes back, and
SIGTERM lets a response in flight finish."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from storage.local import LocalStore
from tests.processes import Server, fetch

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration
BIG = os.urandom(16 << 20)  # more than loopback's socket buffers hold: still in flight at SIGTERM
BIG_KEY = "media/demo/v1/video/720p/seg-00001.m4s"
TRIES = 400  # new connections tried before concluding (each lands on a worker by the kernel's hash)


@pytest.fixture
def origin(cli_env: dict[str, str]) -> Iterator[tuple[Server, str]]:
    store = LocalStore(Path(cli_env["VODPIPE_DATA_DIR"]))
    store.put_bytes("media/demo/v1/master.m3u8", b"#EXTM3U\n")
    store.put_bytes(BIG_KEY, BIG)
    server = Server(["serve", "--port", "0", "--workers", "2"], cli_env)
    url = server.wait_for("origin: serving ").split(" at ")[1]
    yield server, url.removesuffix("/media/")
    if server.proc.poll() is None:
        server.stop()
    else:
        server.proc.communicate()  # closes the pipes


def _pid(base: str) -> int:
    answer = fetch(f"{base}/healthz")
    assert answer.status == 200
    pid: int = json.loads(answer.body)["pid"]
    return pid


def _pids_until(base: str, done: set[int] | None = None, new_beside: set[int] | None = None) -> set[int]:
    seen: set[int] = set()
    for _ in range(TRIES):
        seen.add(_pid(base))
        if len(seen) == 2 and (new_beside is None or seen - new_beside):
            break
    return seen


def test_two_workers_answer_on_one_port(origin: tuple[Server, str]) -> None:
    server, base = origin
    pids = _pids_until(base)
    assert len(pids) == 2
    assert server.proc.pid not in pids  # the supervisor takes no connections
    assert fetch(f"{base}/media/demo/v1/master.m3u8").body == b"#EXTM3U\n"


def test_a_killed_worker_is_restarted_and_requests_keep_succeeding(origin: tuple[Server, str]) -> None:
    server, base = origin
    before = _pids_until(base)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    assert server.proc.stderr is not None
    restarted = None
    for line in server.proc.stderr:  # the supervisor restarted it (a handshake, not a sleep)
        if (found := re.search(r"worker (\d+) ready", line)) is not None:
            restarted = int(found.group(1))
            break
    assert restarted is not None
    assert restarted not in before
    after = _pids_until(base, new_beside=before)  # every fetch in here must answer 200
    assert victim not in after
    assert after - before == {restarted}
    assert fetch(f"{base}/media/demo/v1/master.m3u8").status == 200


def test_sigterm_lets_a_slow_response_finish(origin: tuple[Server, str]) -> None:
    server, base = origin
    address = urlsplit(base)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)  # a slow reader: a small window
    client.connect((address.hostname, address.port))
    client.sendall(f"GET /{BIG_KEY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    received = client.recv(4096)
    assert received.startswith(b"HTTP/1.1 200")
    server.proc.send_signal(signal.SIGTERM)  # while most of the body is still to come
    while chunk := client.recv(1 << 16):
        received += chunk
    client.close()
    _, _, body = received.partition(b"\r\n\r\n")
    assert len(body) == len(BIG)
    assert body == BIG
    assert server.proc.wait(timeout=60) == 0
