"""Real processes: the ``vodpipe`` command line and a running origin, reached over HTTP."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import av
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import Message


def run_cli(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes


def fetch(url: str, headers: dict[str, str] | None = None) -> Fetched:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


class Server:
    """A ``vodpipe`` command that runs until told to stop, printing its URLs first."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []

    def wait_for(self, prefix: str) -> str:
        """Read stdout until a line starts with ``prefix`` (a handshake, not a sleep)."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        stderr = self.proc.stderr.read() if self.proc.stderr else ""
        raise AssertionError(f"process ended before printing {prefix!r}: {self.lines} {stderr}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=30)  # drains and closes the pipes
        return self.proc.returncode


@pytest.fixture
def origin(cli_env: dict[str, str]) -> Iterator[str]:
    """A running ``vodpipe serve`` on a free port; yields its base URL."""
    server = Server(["serve", "--port", "0"], cli_env)
    try:
        line = server.wait_for("origin: ")
        match = re.search(r"(http://[\d.]+:\d+)/media/", line)
        assert match, line
        yield match.group(1)
    finally:
        assert server.stop() == 0


def count_frames(path: str) -> int:
    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))
