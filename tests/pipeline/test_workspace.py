from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pipeline import workspace
from storage.local import LocalStore
from vodpipe.errors import ConfigError, StorageError

if TYPE_CHECKING:
    from pathlib import Path


def test_keys_follow_the_documented_layout() -> None:
    assert workspace.work_prefix("film", "v1a2") == "work/film/v1a2"
    assert workspace.chunk_key("film", "v1a2", 7, "720p.mp4") == "work/film/v1a2/chunks/00007/720p.mp4"
    rendition = workspace.rendition_key("film", "v1a2", "audio-eng.mp4")
    assert rendition == "work/film/v1a2/renditions/audio-eng.mp4"
    assert workspace.packaged_prefix("film", "v1a2") == "work/film/v1a2/packaged"


@pytest.mark.parametrize(
    ("title", "version", "error"), [("../x", "v1", ConfigError), ("t", "..", StorageError)]
)
def test_keys_refuse_what_could_climb_out(title: str, version: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        workspace.rendition_key(title, version, "a.mp4")


def test_another_host_finds_the_work(tmp_path: Path) -> None:
    """Encode on one host, join on another: they share nothing but the store."""
    store = LocalStore(tmp_path / "store")
    encoder_host = tmp_path / "host-a"
    encoder_host.mkdir()
    files = {}
    for index in (0, 1, 2):
        path = encoder_host / f"chunk{index}.mp4"
        path.write_bytes(bytes([index]) * 100)
        files[workspace.chunk_key("t", "v1", index, "720p.mp4")] = path
    (encoder_host / "aac.mp4").write_bytes(b"audio")
    files[workspace.rendition_key("t", "v1", "audio-eng.mp4")] = encoder_host / "aac.mp4"
    workspace.upload(store, files)

    assert workspace.chunk_indexes(store, "t", "v1") == [0, 1, 2]
    assert workspace.all_stored(store, files)
    assert not workspace.all_stored(store, [workspace.chunk_key("t", "v1", 3, "720p.mp4")])
    keys = [workspace.chunk_key("t", "v1", i, "720p.mp4") for i in (0, 1, 2)]
    fetched = workspace.download(store, keys, tmp_path / "host-b")
    assert [p.read_bytes() for p in fetched.values()] == [bytes([i]) * 100 for i in (0, 1, 2)]
    assert fetched[keys[1]] == tmp_path / "host-b" / keys[1]

    store.put_bytes("work/t/v0/renditions/old.mp4", b"x")
    assert workspace.clear(store, "t", "v1") == 4
    assert list(store.list("work/t/")) == ["work/t/v0/renditions/old.mp4"]
    assert workspace.clear(store, "t") == 1
