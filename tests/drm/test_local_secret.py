from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest

from drm.local_secret import local_secret
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


def test_a_secret_is_created_owner_only_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / ".secrets" / "key-encryption-key"
    value, created = local_secret(path)
    assert created
    assert len(value) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again, created_again = local_secret(path)
    assert (again, created_again) == (value, False)


def test_a_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    local_secret(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others \(mode 644\): chmod 600"):
        local_secret(path)


def test_a_truncated_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="holds 5 bytes, not 32"):
        local_secret(path)
