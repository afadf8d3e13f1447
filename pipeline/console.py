"""What the command line shows while work runs: one refreshed progress line."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from encoder.progress import Progress, format_progress

if TYPE_CHECKING:
    from encoder.runner import ProgressCallback


def progress_printer(label: str, stream: TextIO | None = None) -> ProgressCallback:
    """A callback that redraws a progress line on a terminal, or prints every 10% otherwise."""
    out = stream or sys.stderr
    last_decile = -1

    def show(progress: Progress) -> None:
        nonlocal last_decile
        line = format_progress(progress, f"encode {label}")
        if out.isatty():
            out.write("\r" + line + ("\n" if progress.done else ""))
        else:
            decile = int(progress.percent // 10)
            if decile == last_decile and not progress.done:
                return
            last_decile = decile
            out.write(line + "\n")
        out.flush()

    return show
