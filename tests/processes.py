"""Helpers for tests that run real ``vodpipe`` processes and talk to them over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import av

if TYPE_CHECKING:
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
        self.stderr = ""  # what it wrote to stderr, kept by stop() for a failing test to show

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
        _, self.stderr = self.proc.communicate(timeout=30)  # drains and closes the pipes
        return self.proc.returncode


def count_frames(path: str) -> int:
    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))
