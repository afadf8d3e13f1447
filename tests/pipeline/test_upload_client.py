from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipeline.upload_client import UploadState

if TYPE_CHECKING:
    from pathlib import Path


def test_state_is_keyed_by_path_size_mtime_and_api(tmp_path: Path) -> None:
    file = tmp_path / "m.mov"
    file.write_bytes(b"abc")
    state = UploadState(tmp_path / "state" / "uploads.json")
    key = state.fingerprint(file, "http://api")
    state.put(key, "http://api/v1/uploads/1")
    assert state.get(key) == "http://api/v1/uploads/1"
    assert state.get(state.fingerprint(file, "http://other")) is None
    file.write_bytes(b"abcd")  # another size: another file, not resumed
    assert state.get(state.fingerprint(file, "http://api")) is None
    state.put(key, None)
    assert json.loads(state.path.read_text()) == {}


def test_a_damaged_state_file_is_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "uploads.json"
    path.write_text("{not json")
    assert UploadState(path).get("x") is None
