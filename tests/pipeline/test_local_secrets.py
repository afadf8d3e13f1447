from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest

from pipeline.local_secrets import with_local_secrets
from pipeline.settings import Secret, Settings
from storage.local import LocalStore
from vodpipe.errors import StorageError

if TYPE_CHECKING:
    from pathlib import Path


def test_unset_secrets_come_from_owner_only_files_under_the_data_dir(tmp_path: Path) -> None:
    settings, notes = with_local_secrets(Settings(data_dir=tmp_path))
    kek_file = tmp_path / ".secrets" / "key-encryption-key"
    assert settings.key_encryption_key == Secret(kek_file.read_bytes())
    assert settings.token_secret == Secret((tmp_path / ".secrets" / "token-secret").read_bytes())
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    assert any(note.startswith(f"created a local key-encryption-key in {kek_file}") for note in notes)

    again, notes_again = with_local_secrets(Settings(data_dir=tmp_path))
    assert again.key_encryption_key == settings.key_encryption_key
    assert all(note.startswith("using") for note in notes_again)


def test_configured_secrets_are_kept_and_no_file_is_made(tmp_path: Path) -> None:
    mine = Secret(bytes(32))
    configured = Settings(data_dir=tmp_path, key_encryption_key=mine, token_secret=mine)
    settings, notes = with_local_secrets(configured)
    assert settings.key_encryption_key is mine
    assert notes == []
    assert not (tmp_path / ".secrets").exists()


def test_the_secret_files_are_no_objects_of_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("keys/k.json", b"{}")
    with_local_secrets(Settings(data_dir=tmp_path))
    assert list(store.list("")) == ["keys/k.json"]
    with pytest.raises(StorageError):
        store.get_bytes(".secrets/key-encryption-key")
