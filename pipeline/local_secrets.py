"""The demo's secrets: when settings name no key-encryption key or token secret, use local files.

This is the seam for ``vodpipe demo --encrypt``: call :func:`with_local_secrets` on the settings
before building the key store or the license server, and print the lines it returns.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from drm.local_secret import SECRETS_DIR, local_secret
from pipeline.settings import Secret

if TYPE_CHECKING:
    from pipeline.settings import Settings

KEK_FILE = "key-encryption-key"
TOKEN_SECRET_FILE = "token-secret"
SIGNING_KEY_FILE = "url-signing-key"
FILES = {  # setting -> (file under DATA_DIR/.secrets, the variable that overrides it)
    "key_encryption_key": (KEK_FILE, "VODPIPE_KEY_ENCRYPTION_KEY"),
    "token_secret": (TOKEN_SECRET_FILE, "VODPIPE_TOKEN_SECRET"),
    "url_signing_key": (SIGNING_KEY_FILE, "VODPIPE_URL_SIGNING_KEY"),
}


def with_local_secrets(
    settings: Settings, names: tuple[str, ...] = ("key_encryption_key", "token_secret")
) -> tuple[Settings, list[str]]:
    """Settings with the ``names`` secrets filled from ``DATA_DIR/.secrets/`` where unset, and what
    to say (``vodpipe demo --signed-urls`` asks for the URL signing key)."""
    folder = settings.data_dir / SECRETS_DIR
    changes: dict[str, Any] = {}
    notes = []
    for name in names:
        file, env = FILES[name]
        if getattr(settings, name) is not None:
            continue
        value, created = local_secret(folder / file)
        changes[name] = Secret(value)
        what = name.replace("_", "-")
        verb = "created" if created else "using"
        notes.append(f"{verb} a local {what} in {folder / file} (owner-only; set {env} to use yours)")
    return dataclasses.replace(settings, **changes), notes
