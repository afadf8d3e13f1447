"""The title job through the command line: failures, idempotency, unusual masters."""

from __future__ import annotations

import json
import re
import socket
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from player_test.media import decode
from tests.processes import run_cli

if TYPE_CHECKING:
    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration


def media_files(env: dict[str, str]) -> list[Path]:
    media = Path(env["VODPIPE_DATA_DIR"]) / "media"
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def record(env: dict[str, str], title: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (Path(env["VODPIPE_DATA_DIR"]) / f"catalog/titles/{title}.json").read_text()
    )
    return data


def test_an_ffmpeg_failure_reports_its_last_lines_and_publishes_nothing(
    tmp_path: Path, master_10s: Path, cli_env: dict[str, str]
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\necho 'Unknown encoder libx264' >&2\necho 'Error selecting an encoder' >&2\nexit 8\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    result = run_cli(
        "ingest", str(master_10s), "--title", "broken", env=cli_env | {"VODPIPE_FFMPEG": str(fake)}
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "vodpipe: error: ffmpeg failed (exit status 8): Unknown encoder libx264 | Error selecting an encoder"
    ]
    assert "Traceback" not in result.stderr
    assert media_files(cli_env) == []
    failed = record(cli_env, "broken")
    assert failed["status"] == "failed"
    assert "Error selecting an encoder" in str(failed["error"])
    # Nothing is lost: with a working FFmpeg the same title goes through.
    retry = run_cli("ingest", str(master_10s), "--title", "broken", env=cli_env)
    assert retry.returncode == 0, retry.stderr
    assert record(cli_env, "broken")["status"] == "published"


def test_ingesting_the_same_bytes_twice_does_no_new_work(master_10s: Path, cli_env: dict[str, str]) -> None:
    first = run_cli("ingest", str(master_10s), "--title", "twice", env=cli_env)
    assert first.returncode == 0, first.stderr
    before = {p: p.stat().st_mtime_ns for p in media_files(cli_env)}
    second = run_cli("ingest", str(master_10s), "--title", "twice", env=cli_env)
    assert second.returncode == 0
    assert "already published; nothing to do" in second.stderr
    assert "encode" not in second.stderr
    assert second.stdout == first.stdout  # same URLs
    assert {p: p.stat().st_mtime_ns for p in media_files(cli_env)} == before


def test_a_master_without_audio_is_packaged_video_only(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("silent.mp4", seconds=4, size="640x360", audio=False)
    result = run_cli("ingest", str(master), "--title", "silent", env=cli_env)
    assert result.returncode == 0, result.stderr
    version = re.search(r"/media/silent/(v\w+)/", result.stdout)
    assert version
    base = Path(cli_env["VODPIPE_DATA_DIR"]) / "media/silent" / version.group(1)
    master_playlist = (base / "master.m3u8").read_text()
    assert "EXT-X-MEDIA" not in master_playlist
    assert "mp4a" not in master_playlist
    assert 'CODECS="avc1.' in master_playlist
    assert "audio" not in (base / "manifest.mpd").read_text()
    assert not (base / "audio").exists()


def test_a_rotated_phone_master_becomes_a_portrait_ladder(
    tmp_path: Path, make_master: MakeMaster, ffmpeg_exe: str, cli_env: dict[str, str]
) -> None:
    landscape = make_master("landscape-4s.mp4", seconds=4, size="640x360")
    master = tmp_path / "phone.mp4"  # the same pixels, flagged to be shown turned 90 degrees
    subprocess.run(
        [
            ffmpeg_exe,
            "-loglevel",
            "error",
            "-y",
            "-display_rotation:v:0",
            "90",
            "-i",
            str(landscape),
            "-c",
            "copy",
            str(master),
        ],
        check=True,
    )
    result = run_cli("ingest", str(master), "--title", "phone", env=cli_env)
    assert result.returncode == 0, result.stderr
    info = record(cli_env, "phone")
    assert info["probe"]["video"]["rotation"] in (90, 270)
    assert [(r["id"], r["width"], r["height"]) for r in info["renditions"] if r["kind"] == "video"] == [
        ("360p", 360, 640),
        ("240p", 234, 416),
    ]
    assert [(r["width"], r["height"], r["sar"]) for r in info["ladder"]] == [
        (360, 640, "1:1"),
        (234, 416, "1:1"),
    ]
    rung = next(Path(cli_env["VODPIPE_DATA_DIR"]).rglob("video/360p"))
    decoded = decode(
        (rung / "init.mp4").read_bytes(), [p.read_bytes() for p in sorted(rung.glob("seg-*.m4s"))]
    )
    assert (decoded.width, decoded.height, decoded.frames) == (360, 640, 120)


def test_a_busy_port_is_one_line(cli_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env=cli_env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"vodpipe: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_status_of_an_unknown_title(cli_env: dict[str, str]) -> None:
    result = run_cli("status", "nobody", env=cli_env)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "vodpipe: error: no title 'nobody' in the catalog",
    )
    bad = run_cli("ingest", "x.mp4", "--title", "Not A Slug", env=cli_env)
    assert bad.returncode == 1
    assert bad.stderr.startswith("vodpipe: error: invalid title 'Not A Slug'")
