from __future__ import annotations

import pytest

from origin.paths import UnsafePathError, media_key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param("/media/demo/v1/master.m3u8", "media/demo/v1/master.m3u8", id="manifest"),
        pytest.param(
            "/media/demo/v1/video/720p/seg-00001.m4s?t=1",
            "media/demo/v1/video/720p/seg-00001.m4s",
            id="query-ignored",
        ),
    ],
)
def test_plain_media_paths_map_to_keys(raw: str, key: str) -> None:
    assert media_key(raw) == key


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("/media/../catalog/titles/demo.json", id="dot-dot"),
        pytest.param("/media/demo/../../keys/k.json", id="dot-dot-deep"),
        pytest.param("/media/%2e%2e/catalog/titles/demo.json", id="encoded-dot-dot"),
        pytest.param("/media/%2E%2E/keys/k.json", id="encoded-dot-dot-upper"),
        pytest.param("/media/demo%2f..%2f..%2fkeys/k.json", id="encoded-slash"),
        pytest.param("/media/demo/..%5c..%5ckeys", id="encoded-backslash"),
        pytest.param("/media/demo\\..\\keys/k.json", id="backslash"),
        pytest.param("/media//etc/passwd", id="absolute-inside"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("/media/demo/v1/master.m3u8%00.mp4", id="encoded-nul"),
        pytest.param("/media/demo/v1/master.m3u8\x00.mp4", id="nul"),
        pytest.param("/media/.hidden/x.m4s", id="dotfile"),
        pytest.param("/media/demo/./v1/x.m4s", id="single-dot"),
        pytest.param("/media/demo/v1/", id="trailing-slash"),
        pytest.param("/media/", id="bare-prefix"),
        pytest.param("/masters/demo/abc.mp4", id="private-prefix"),
        pytest.param("/media/demo/v1/%6d%61ster.m3u8", id="any-percent-encoding"),
    ],
)
def test_paths_that_could_leave_media_are_refused(raw: str) -> None:
    with pytest.raises(UnsafePathError):
        media_key(raw)
