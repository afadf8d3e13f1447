from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from packager.publish import publish
from storage.local import LocalStore
from vodpipe.errors import StorageError

if TYPE_CHECKING:
    from pathlib import Path


def title_folder(root: Path) -> Path:
    for rel in (
        "video/720p/init.mp4",
        "video/720p/seg-00001.m4s",
        "video/720p/index.m3u8",
        "audio/en/seg-00001.m4s",
        "audio/en/index.m3u8",
        "master.m3u8",
        "manifest.mpd",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(rel.encode())
    return root


def test_segments_first_then_media_playlists_then_top_level_manifests(tmp_path: Path) -> None:
    written = publish(LocalStore(tmp_path / "store"), title_folder(tmp_path / "out"), "media/t/v1")
    names = [k.removeprefix("media/t/v1/") for k in written]
    assert names == [
        "audio/en/seg-00001.m4s",
        "video/720p/init.mp4",
        "video/720p/seg-00001.m4s",
        "audio/en/index.m3u8",
        "video/720p/index.m3u8",
        "manifest.mpd",
        "master.m3u8",
    ]


class FailingStore(LocalStore):
    """Fails on the Nth write: the seam that a full disk or a dropped S3 connection would hit."""

    def __init__(self, root: Path, fail_at: int) -> None:
        super().__init__(root)
        self.fail_at = fail_at
        self.writes = 0

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> Any:
        self.writes += 1
        if self.writes == self.fail_at:
            raise StorageError("disk full")
        return super().put_file(key, path, content_type)


@pytest.mark.parametrize("fail_at", [1, 3, 6, 7])
def test_a_failed_publish_leaves_nothing_behind(tmp_path: Path, fail_at: int) -> None:
    store = FailingStore(tmp_path / "store", fail_at)
    with pytest.raises(StorageError, match="disk full"):
        publish(store, title_folder(tmp_path / "out"), "media/t/v1")
    assert list(store.list("media/")) == []
