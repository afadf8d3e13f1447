"""Mapping request paths to ``media/`` keys, refusing anything that could leave ``media/``.

Checked on the raw request path, before any decoding or normalisation: every segment must be a
plain name (letters, digits, ``._-``), so ``..``, ``%2e%2e``, ``%2f``, ``\\``, NUL, ``//`` and
absolute paths never match and never reach storage.
"""

from __future__ import annotations

import re

from vodpipe.errors import ObjectNotFoundError

MEDIA_PREFIX = "/media/"
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")


class UnsafePathError(ObjectNotFoundError):
    """A path that is not a plain ``media/`` key; answered as 404, like any unknown object."""


def media_key(raw_path: str) -> str:
    """``/media/t/v1/master.m3u8?x=1`` -> ``media/t/v1/master.m3u8``."""
    path = raw_path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith(MEDIA_PREFIX):
        raise UnsafePathError("not found")
    parts = path[len(MEDIA_PREFIX) :].split("/")
    if len(parts) < 2 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise UnsafePathError("not found")
    return "media/" + "/".join(parts)
