"""Running FFmpeg: a protocol for the seam, and the subprocess implementation."""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable
from typing import IO, Protocol

from encoder.progress import Progress, parse_progress
from vodpipe.errors import EncodeError

ProgressCallback = Callable[[Progress], None]
_STDERR_LINES = 6


class FFmpegRunner(Protocol):
    def run(self, args: list[str], total: float, on_progress: ProgressCallback | None = None) -> None:
        """Run to completion; raise ``EncodeError`` carrying FFmpeg's last stderr lines on failure.

        ``total`` is the expected output duration in seconds, for percent and ETA.
        """


def _drain(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        if line.strip():
            tail.append(line.rstrip())


class SubprocessRunner:
    """Runs FFmpeg as a child process, reading ``-progress pipe:1`` from its stdout."""

    def run(self, args: list[str], total: float, on_progress: ProgressCallback | None = None) -> None:
        tail: deque[str] = deque(maxlen=_STDERR_LINES)
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise EncodeError(f"cannot start ffmpeg ({args[0]}): {exc.strerror}") from None
        assert proc.stdout is not None
        assert proc.stderr is not None
        reader = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
        reader.start()
        try:
            for progress in parse_progress(proc.stdout, total):
                if on_progress is not None:
                    on_progress(progress)
        except BaseException:
            proc.kill()  # interrupted: leave no orphan encoder behind
            raise
        finally:
            status = proc.wait()
            reader.join()
            proc.stdout.close()  # Popen outside a with-block leaves its pipes to the GC otherwise
            proc.stderr.close()
        if status != 0:
            detail = " | ".join(tail) or "no output on stderr"
            raise EncodeError(f"ffmpeg failed (exit status {status}): {detail}")
