"""Reading samples out of a fragmented MP4 that FFmpeg wrote."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from packager.samples import iter_samples, read_header

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Path:
    """Two seconds of H.264 in one fragment per 10-frame GOP, with B-frames (composition offsets)."""
    path = tmp_path_factory.mktemp("samples") / "frag.mp4"
    subprocess.run(
        [
            *(ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
            *("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "2"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "10", "-pix_fmt", "yuv420p"),
            *("-movflags", "+frag_keyframe+empty_moov+default_base_moof", str(path)),
        ],
        check=True,
    )
    return path


def test_samples_without_data_have_the_same_times_and_flags(fragmented: Path) -> None:
    with fragmented.open("rb") as f:
        _, header = read_header(f)
        start = f.tell()
        full = list(iter_samples(f, header))
        f.seek(start)
        bare = list(iter_samples(f, header, data=False))
    assert len(full) == 50
    assert sum(s.is_sync for s in full) == 5
    assert all(s.data for s in full)
    assert all(s.data == b"" for s in bare)
    fields = [(s.decode_time, s.duration, s.flags, s.composition_offset) for s in full]
    assert [(s.decode_time, s.duration, s.flags, s.composition_offset) for s in bare] == fields
