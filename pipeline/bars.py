"""Progress bars for the terminal: pure text from numbers, so tests can read them."""

from __future__ import annotations

from typing import Any

WIDTH = 24


def bar(percent: float, width: int = WIDTH) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def transfer_line(label: str, done: int, total: int, sent: int, elapsed: float) -> str:
    """``film.mov [#####-----]  42.0%  118.2/281.4 MB  12.3 MB/s  ETA 0:00:13``

    ``sent`` is what this run sent (the rate and ETA ignore bytes an earlier run uploaded).
    """
    percent = 100.0 if total == 0 else 100 * done / total
    rate = sent / elapsed if elapsed > 0 else 0.0
    eta = "-:--:--" if rate <= 0 else _clock((total - done) / rate)
    return (
        f"{label} {bar(percent)} {percent:5.1f}%  {done / 1e6:.1f}/{total / 1e6:.1f} MB  "
        f"{rate / 1e6:.1f} MB/s  ETA {eta}"
    )


def stage_lines(view: dict[str, Any]) -> list[str]:
    """One bar per stage of a title's job, then its status (and error, if it failed)."""
    lines = []
    upload = view.get("upload")
    if isinstance(upload, dict):
        lines.append(f"{'upload':<10} {bar(float(upload['percent']))} {float(upload['percent']):5.1f}%")
    progress = view.get("progress") or {}
    for stage, percent in progress.items():
        lines.append(f"{stage:<10} {bar(float(percent))} {float(percent):5.1f}%")
    status = f"status: {view.get('status')}"
    if view.get("error"):
        status += f" ({view['error']})"
    lines.append(status)
    return lines
