"""vodpipe: shared roots of the pipeline (the error tree and the version)."""

from __future__ import annotations

__version__ = "0.1.0"
