"""HEVC rungs from vodpipe's encoder, encrypted by vodpipe, decrypted by FFmpeg and Shaka Packager.

HEVC NAL unit headers are 2 bytes (ISO/IEC 23008-2 §7.3.1.2), not AVC's 1: the subsample
layout must keep them and the slice headers clear. Decryptors that are not ours must give back
the clear title's frames exactly (FFmpeg framemd5).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from bench.shaka import shaka_packager
from drm.keys import ContentKey
from encoder.encode import plan_job, run_job
from encoder.ladder import Ladder, Rung
from ingest.probe import probe
from packager.package import EncodedTrack, package
from packager.protect import Encryption
from pipeline.job import source_media
from tests.player_test.conftest import QuietRunner

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

KEY = ContentKey(
    bytes.fromhex("0123456789abcdef0123456789abcdef"), bytes.fromhex("00112233445566778899aabbccddeeff")
)
LADDER = Ladder((Rung("240p-hevc", 240, 300_000, codec="hevc"),), hevc_preset="ultrafast")


@pytest.fixture(scope="module")
def titles(
    make_master: MakeMaster, ffmpeg_exe: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """A 4 s x265 rung packaged clear, cenc and cbcs; each as one file (init, then segments)."""
    master = make_master("hevc-4s-240p.mp4", seconds=4, size="426x240", rate="25", audio=False)
    job = plan_job(source_media(master, probe(master)), LADDER, tmp_path_factory.mktemp("hevc"))
    (rung,) = run_job(QuietRunner(), ffmpeg_exe, job, 4.0)
    joined = {}
    for scheme in ("clear", "cenc", "cbcs"):
        folder = tmp_path_factory.mktemp(scheme)
        encryption = None
        if scheme != "clear":
            encryption = Encryption(
                scheme,  # type: ignore[arg-type]
                {"sd": KEY},
                license_url="https://license.example/clearkey",
                key_uri=lambda kid: f"https://license.example/keys/{kid.hex()}",
            )
        package([EncodedTrack("video", rung.id, rung.path)], folder, Fraction(2), encryption=encryption)
        rendition = folder / "video" / rung.id
        parts = [rendition / "init.mp4", *sorted(rendition.glob("seg-*.m4s"))]
        joined[scheme] = folder / "joined.mp4"
        joined[scheme].write_bytes(b"".join(p.read_bytes() for p in parts))
    return joined


def framemd5(ffmpeg_exe: str, source: Path, key: bytes | None = None) -> str:
    args = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-nostdin"]
    if key is not None:
        args += ["-decryption_key", key.hex()]
    result = subprocess.run([*args, "-i", str(source), "-f", "framemd5", "-"], capture_output=True, text=True)
    return result.stdout


def test_the_clear_rung_is_hvc1(titles: dict[str, Path], ffmpeg_exe: str) -> None:
    assert b"hvc1" in titles["clear"].read_bytes()[:2000]
    assert framemd5(ffmpeg_exe, titles["clear"]).count("\n") > 100  # 100 frames and the header


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_ffmpeg_decrypts_vodpipe_hevc_to_the_clear_frames(
    titles: dict[str, Path], ffmpeg_exe: str, scheme: str
) -> None:
    expected = framemd5(ffmpeg_exe, titles["clear"])
    assert framemd5(ffmpeg_exe, titles[scheme], KEY.key) == expected
    assert framemd5(ffmpeg_exe, titles[scheme], bytes(16)) != expected  # the wrong key: other frames


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_shaka_packager_decrypts_vodpipe_hevc(
    titles: dict[str, Path], ffmpeg_exe: str, tmp_path: Path, scheme: str
) -> None:
    decrypted = tmp_path / "dec.mp4"
    subprocess.run(
        [str(shaka_packager()), f"input={titles[scheme]},stream=video,output={decrypted}",
         "--enable_raw_key_decryption", "--keys", f"label=:key_id={KEY.kid_hex}:key={KEY.key.hex()}"],
        check=True, capture_output=True,
    )  # fmt: skip
    assert framemd5(ffmpeg_exe, decrypted) == framemd5(ffmpeg_exe, titles["clear"])
