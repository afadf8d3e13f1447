"""FFmpeg ``-progress`` output: key=value lines, a block per update ending in ``progress=``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


@dataclass(frozen=True)
class Progress:
    out_time: float  # seconds of output written
    total: float  # seconds of output expected (the master's duration)
    fps: float
    speed: float  # media seconds per wall second
    done: bool

    @property
    def percent(self) -> float:
        if self.done:
            return 100.0
        return min(100.0, 100.0 * self.out_time / self.total) if self.total > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed, or None before the speed is known."""
        if self.done:
            return 0.0
        if self.speed <= 0:
            return None
        return max(0.0, self.total - self.out_time) / self.speed


def _number(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return float(value.rstrip("x"))
    except ValueError:  # "N/A" before the first frame
        return 0.0


def parse_progress(lines: Iterable[str], total: float) -> Iterator[Progress]:
    """One :class:`Progress` per ``progress=continue|end`` block."""
    block: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        block[key] = value
        if key == "progress":
            us = block.get("out_time_us") or block.get("out_time_ms")  # both are microseconds
            yield Progress(
                out_time=_number(us) / 1_000_000,
                total=total,
                fps=_number(block.get("fps")),
                speed=_number(block.get("speed")),
                done=value == "end",
            )
            block = {}


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_progress(progress: Progress, label: str = "encode") -> str:
    """``encode  42.0%   118 fps  3.9x  ETA 0:00:12``"""
    eta = progress.eta
    eta_text = "-:--:--" if eta is None else _clock(eta)
    return (
        f"{label} {progress.percent:5.1f}%  {progress.fps:5.0f} fps  {progress.speed:4.1f}x  ETA {eta_text}"
    )
