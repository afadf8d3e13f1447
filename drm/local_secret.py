"""A secret kept in a local file readable by its owner only: the demo's key-encryption key.

The file lives under the data folder in ``.secrets/``; a name that starts with a dot is never a
valid object key (storage/base.py), so no store call, and no origin path, can address it.
"""

from __future__ import annotations

import os
import secrets
import stat
from typing import TYPE_CHECKING

from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

SECRETS_DIR = ".secrets"


def local_secret(path: Path, size: int = 32) -> tuple[bytes, bool]:
    """The secret in ``path``, created from the CSPRNG (mode 0600, folder 0700) if missing.

    Returns the secret and whether it was created now. A file that others can read is refused
    rather than used: a key anyone on the machine can copy protects nothing.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _existing(path, size), False
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(size))
    return path.read_bytes(), True


def _existing(path: Path, size: int) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    value = path.read_bytes()
    if len(value) != size:
        raise ConfigError(f"{path} holds {len(value)} bytes, not {size}: remove it or restore it")
    return value
