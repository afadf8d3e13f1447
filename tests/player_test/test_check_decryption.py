"""The checker's own decryption, on streams that Shaka Packager encrypted (not vodpipe's packager)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from bench.shaka import shaka_packager
from player_test.cenc import clear_init, clear_segment, read_track_encryption
from player_test.media import MediaError, boxes
from tests.packager.test_encryption_interop import framemd5, renditions  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def shaka_encrypted(source: Path, out: Path, kind: str, scheme: str) -> tuple[bytes, list[bytes]]:
    """Shaka Packager's encrypted CMAF: its init segment and its media segments."""
    init, template = out / "init.mp4", out / "seg-$Number$.m4s"
    subprocess.run(
        [str(shaka_packager()),
         f"in={source},stream={kind},init_segment={init},segment_template={template}",
         "--enable_raw_key_encryption", "--keys", f"label=:key_id={KID.hex()}:key={KEY.hex()}",
         "--protection_scheme", scheme, "--clear_lead", "0", "--segment_duration", "2"],
        check=True, capture_output=True,
    )  # fmt: skip
    segments = sorted(out.glob("seg-*.m4s"), key=lambda p: int(p.stem.split("-")[1]))
    return init.read_bytes(), [p.read_bytes() for p in segments]


@pytest.mark.parametrize("kind", ["video", "audio"])
@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_the_checker_decrypts_shaka_packager_output_to_the_clear_frames(
    renditions: dict[str, Path],  # noqa: F811 (the imported fixture)
    ffmpeg_exe: str,
    tmp_path: Path,
    scheme: str,
    kind: str,
) -> None:
    init, segments = shaka_encrypted(renditions[kind], tmp_path, kind, scheme)
    encryption = read_track_encryption(init)
    assert encryption is not None
    assert (encryption.scheme, encryption.kid) == (scheme, KID)
    if scheme == "cbcs" and kind == "video":
        assert (encryption.crypt, encryption.skip, len(encryption.constant_iv)) == (1, 9, 16)
    clear = tmp_path / "clear.mp4"
    clear.write_bytes(clear_init(init) + b"".join(clear_segment(s, encryption, KEY) for s in segments))
    wrong = tmp_path / "wrong.mp4"
    wrong.write_bytes(clear_init(init) + b"".join(clear_segment(s, encryption, bytes(16)) for s in segments))
    expected = framemd5(ffmpeg_exe, renditions[kind])
    assert expected.count("\n") > 50
    assert framemd5(ffmpeg_exe, clear) == expected
    assert framemd5(ffmpeg_exe, wrong) != expected  # the test of the test: a wrong key shows


def test_a_clear_init_segment_has_no_track_encryption(renditions: dict[str, Path]) -> None:  # noqa: F811
    data = renditions["video"].read_bytes()
    init = data[: sum(size for kind, _, size in boxes(data) if kind in ("ftyp", "moov"))]
    assert read_track_encryption(init) is None
    assert clear_init(init) == init


def test_senc_that_disagrees_with_trun_is_a_media_error(
    renditions: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    init, segments = shaka_encrypted(renditions["audio"], tmp_path, "audio", "cenc")
    encryption = read_track_encryption(init)
    assert encryption is not None
    segment = bytearray(segments[0])
    at = segment.find(b"senc") + 8  # version/flags, then sample_count (ISO/IEC 23001-7 §7.2)
    segment[at : at + 4] = (int.from_bytes(segment[at : at + 4], "big") + 1).to_bytes(4, "big")
    with pytest.raises(MediaError, match="senc has"):
        clear_segment(bytes(segment), encryption, KEY)
