"""Bad masters through the real command line: one line, non-zero exit, nothing stored."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.probe import probe
from vodpipe.errors import InvalidMasterError

pytestmark = pytest.mark.integration

Maker = Callable[[Path, str, Callable[..., Path]], Path]


def _ffmpeg(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", *args], check=True)


def _missing(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    return folder / "does-not-exist.mp4"


def _directory(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    (folder / "a-folder.mp4").mkdir()
    return folder / "a-folder.mp4"


def _empty(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    (folder / "empty.mp4").write_bytes(b"")
    return folder / "empty.mp4"


def _text(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    (folder / "notes.mp4").write_text("this is a shopping list, not a film\n" * 50)
    return folder / "notes.mp4"


def _truncated_moov_at_end(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    path = folder / "cut.mov"
    _ffmpeg(ffmpeg, "-i", str(make("bad-src.mp4", seconds=4)), "-c", "copy", str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_faststart(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    data = make("bad-src.mp4", seconds=4).read_bytes()  # faststart: the moov survives the cut
    path = folder / "cut-faststart.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt_frames(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    data = bytearray(make("bad-src.mp4", seconds=4).read_bytes())
    for i in range(len(data) // 5, len(data) - 64):
        data[i] = 0  # headers intact, the coded frames zeroed
    path = folder / "zeroed.mp4"
    path.write_bytes(bytes(data))
    return path


def _audio_only(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    path = folder / "tone.m4a"
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", str(path))
    return path


def _still_image(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    path = folder / "poster.png"
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(path))
    return path


def _absurd_duration(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    path = folder / "two-frames-a-day-apart.mkv"
    _ffmpeg(
        ffmpeg,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x64:rate=1",
        "-frames:v",
        "2",
        "-vf",
        "setpts=N*100000/TB",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        str(path),
    )
    return path


def _absurd_dimensions(folder: Path, ffmpeg: str, make: Callable[..., Path]) -> Path:
    return make("tiny.mp4", seconds=1, size="8x8", audio=False)


CASES = [
    pytest.param(_missing, "master not found: ", id="missing-file"),
    pytest.param(_directory, "master is not a regular file: ", id="directory"),
    pytest.param(_empty, "master is empty (0 bytes): ", id="empty-file"),
    pytest.param(
        _text,
        "master is not a readable media file (corrupt, truncated or not media): notes.mp4",
        id="not-media",
    ),
    pytest.param(
        _truncated_moov_at_end,
        "master is not a readable media file (corrupt, truncated or not media): cut.mov",
        id="truncated-moov-lost",
    ),
    pytest.param(_truncated_faststart, "master is truncated: video stops at ", id="truncated-faststart"),
    pytest.param(_corrupt_frames, "master is corrupt: video frames do not decode at ", id="corrupt-frames"),
    pytest.param(_audio_only, "master has no video stream (streams: audio aac)", id="no-video-stream"),
    pytest.param(_still_image, "master has zero duration", id="zero-duration"),
    pytest.param(_absurd_duration, "is absurd (maximum 86400 s)", id="absurd-duration"),
    pytest.param(_absurd_dimensions, "master dimensions 8x8 are absurd", id="absurd-dimensions"),
]


@pytest.mark.parametrize(("maker", "message"), CASES)
def test_bad_master_is_refused_with_one_line_and_nothing_stored(
    tmp_path: Path,
    ffmpeg_exe: str,
    make_master: Callable[..., Path],
    cli_env: dict[str, str],
    maker: Maker,
    message: str,
) -> None:
    path = maker(tmp_path, ffmpeg_exe, make_master)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", str(path), "--title", "bad"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vodpipe: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    data = Path(cli_env["VODPIPE_DATA_DIR"])
    stored = [p for p in data.rglob("*") if p.is_file()] if data.exists() else []
    assert stored == []  # no master, no record, no media


def test_unreadable_master(tmp_path: Path, master_10s: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which reads any file; the permission check is driven through its seam.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(InvalidMasterError, match="master is not readable \\(permission denied\\)"):
        probe(master_10s)
