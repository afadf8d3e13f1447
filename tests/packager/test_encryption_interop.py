"""Encrypted packaging checked by decryptors that are not ours, and ours checked on theirs.

FFmpeg (``-decryption_key``) and Shaka Packager 3.8 (raw-key decryption) decrypt vodpipe's
cenc and cbcs output, and vodpipe's decryption reads what Shaka Packager encrypts; in every case
the decoded frames (FFmpeg framemd5) are those of the clear title.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from bench.shaka import shaka_packager
from drm.keys import ContentKey
from encoder.ffmpeg_args import AUDIO_MOVFLAGS, VIDEO_MOVFLAGS
from packager.decrypt import decrypt_file
from packager.isobmff.box import child, iter_boxes
from packager.isobmff.protection import ProtectionSchemeInfo
from packager.isobmff.pssh import ProtectionSystemHeader
from packager.isobmff.sample_aux import AuxInfoOffsets, AuxInfoSizes, SampleEncryptionBox
from packager.package import EncodedTrack, package
from packager.protect import Encryption
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

KEY = ContentKey(
    bytes.fromhex("0123456789abcdef0123456789abcdef"), bytes.fromhex("00112233445566778899aabbccddeeff")
)
AUDIO_KEY = ContentKey(
    bytes.fromhex("fedcba9876543210fedcba9876543210"), bytes.fromhex("ffeeddccbbaa99887766554433221100")
)
KEYS = {KEY.kid: KEY.key, AUDIO_KEY.kid: AUDIO_KEY.key}
RENDITIONS = {"video": "video/360p", "audio": "audio/en"}


@pytest.fixture(scope="module")
def renditions(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> dict[str, Path]:
    """A 640x360 H.264 rendition and an AAC one, 4 s, fragmented as vodpipe's encoder writes them."""
    folder = tmp_path_factory.mktemp("renditions")
    video, audio = folder / "video.mp4", folder / "audio.mp4"
    lavfi = [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
    ]
    subprocess.run(
        [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *lavfi,
         "-map", "0:v", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60",
         "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-video_track_timescale", "90000",
         "-movflags", VIDEO_MOVFLAGS, "-f", "mp4", str(video),
         "-map", "1:a", "-t", "4", "-c:a", "aac", "-ac", "2",
         "-movflags", AUDIO_MOVFLAGS, "-frag_duration", "2000000", "-f", "mp4", str(audio)],
        check=True,
    )  # fmt: skip
    return {"video": video, "audio": audio}


def _tracks(renditions: dict[str, Path]) -> list[EncodedTrack]:
    return [
        EncodedTrack("video", "360p", renditions["video"]),
        EncodedTrack("audio", "en", renditions["audio"]),
    ]


def _joined(title: Path, rendition: str) -> bytes:
    """A rendition as one fragmented MP4: its init segment, then its segments in order."""
    folder = title / rendition
    return b"".join(p.read_bytes() for p in [folder / "init.mp4", *sorted(folder.glob("seg-*.m4s"))])


@pytest.fixture(scope="module")
def titles(tmp_path_factory: pytest.TempPathFactory, renditions: dict[str, Path]) -> dict[str, Path]:
    """The same renditions packaged clear, cenc and cbcs (separate audio and video keys)."""
    out = {}
    for scheme in ("clear", "cenc", "cbcs"):
        folder = tmp_path_factory.mktemp(scheme)
        encryption = None
        if scheme != "clear":
            encryption = Encryption(
                scheme,  # type: ignore[arg-type]
                {"sd": KEY, "audio": AUDIO_KEY},
                license_url="https://license.example/clearkey",
                key_uri=lambda kid: f"https://license.example/keys/{kid.hex()}",
                fairplay_uri="skd://fairplay.example/key" if scheme == "cbcs" else None,
            )
        package(_tracks(renditions), folder, Fraction(2), encryption=encryption)
        out[scheme] = folder
    return out


def framemd5(ffmpeg_exe: str, source: Path, key: bytes | None = None) -> str:
    args = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-nostdin"]
    if key is not None:
        args += ["-decryption_key", key.hex()]
    result = subprocess.run([*args, "-i", str(source), "-f", "framemd5", "-"], capture_output=True, text=True)
    return result.stdout


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", ["video", "audio"])
@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_ffmpeg_decrypts_vodpipe_output_to_the_clear_frames(
    titles: dict[str, Path], ffmpeg_exe: str, tmp_path: Path, scheme: str, kind: str
) -> None:
    key = KEY.key if kind == "video" else AUDIO_KEY.key
    clear = _write(tmp_path / "clear.mp4", _joined(titles["clear"], RENDITIONS[kind]))
    encrypted = _write(tmp_path / "enc.mp4", _joined(titles[scheme], RENDITIONS[kind]))
    expected = framemd5(ffmpeg_exe, clear)
    assert expected.count("\n") > 50
    assert framemd5(ffmpeg_exe, encrypted, key) == expected
    assert framemd5(ffmpeg_exe, encrypted, bytes(16)) != expected  # the wrong key gives other frames


@pytest.mark.parametrize("kind", ["video", "audio"])
@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_shaka_packager_decrypts_vodpipe_output(
    titles: dict[str, Path], ffmpeg_exe: str, tmp_path: Path, scheme: str, kind: str
) -> None:
    key = KEY if kind == "video" else AUDIO_KEY
    encrypted = _write(tmp_path / "enc.mp4", _joined(titles[scheme], RENDITIONS[kind]))
    decrypted = tmp_path / "dec.mp4"
    subprocess.run(
        [str(shaka_packager()), f"input={encrypted},stream={kind},output={decrypted}",
         "--enable_raw_key_decryption", "--keys", f"label=:key_id={key.kid_hex}:key={key.key.hex()}"],
        check=True, capture_output=True,
    )  # fmt: skip
    clear = _write(tmp_path / "clear.mp4", _joined(titles["clear"], RENDITIONS[kind]))
    assert framemd5(ffmpeg_exe, decrypted) == framemd5(ffmpeg_exe, clear)


@pytest.mark.parametrize("kind", ["video", "audio"])
@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_vodpipe_decrypts_shaka_packager_output(
    renditions: dict[str, Path], ffmpeg_exe: str, tmp_path: Path, scheme: str, kind: str
) -> None:
    encrypted = tmp_path / "shaka.mp4"
    subprocess.run(
        [str(shaka_packager()), f"input={renditions[kind]},stream={kind},output={encrypted}",
         "--enable_raw_key_encryption", "--keys", f"label=:key_id={KEY.kid_hex}:key={KEY.key.hex()}",
         "--protection_scheme", scheme, "--clear_lead", "0"],
        check=True, capture_output=True,
    )  # fmt: skip
    source = encrypted.read_bytes()
    decrypted = _write(tmp_path / "dec.mp4", decrypt_file(source, KEYS))
    expected = framemd5(ffmpeg_exe, renditions[kind])
    assert framemd5(ffmpeg_exe, encrypted) != expected  # Shaka did encrypt it
    assert framemd5(ffmpeg_exe, decrypted) == expected


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_vodpipe_decrypts_its_own_output(
    titles: dict[str, Path], ffmpeg_exe: str, tmp_path: Path, scheme: str
) -> None:
    for rendition in RENDITIONS.values():
        clear = _write(tmp_path / "clear.mp4", _joined(titles["clear"], rendition))
        decrypted = _write(tmp_path / "dec.mp4", decrypt_file(_joined(titles[scheme], rendition), KEYS))
        assert framemd5(ffmpeg_exe, decrypted) == framemd5(ffmpeg_exe, clear)


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_init_and_fragments_carry_the_protection_boxes(titles: dict[str, Path], scheme: str) -> None:
    init = (titles[scheme] / "video/360p/init.mp4").read_bytes()
    entry = child(init, "moov/trak/mdia/minf/stbl/stsd")
    assert entry is not None
    (encv,) = iter_boxes(entry.payload, 8)
    assert encv.type == "encv"
    sinf = ProtectionSchemeInfo.parse(next(b for b in iter_boxes(encv.payload, 78) if b.type == "sinf"))
    assert (sinf.original_format.data_format, sinf.scheme.scheme_type, sinf.tenc.default_kid) == (
        "avc1",
        scheme,
        KEY.kid,
    )
    if scheme == "cbcs":
        assert (sinf.tenc.version, sinf.tenc.crypt_byte_block, sinf.tenc.skip_byte_block) == (1, 1, 9)
        assert (sinf.tenc.per_sample_iv_size, len(sinf.tenc.constant_iv)) == (0, 16)
    moov = child(init, "moov")
    assert moov is not None
    audio_init = (titles[scheme] / "audio/en/init.mp4").read_bytes()
    assert child(audio_init, "moov/trak/edts/elst") is not None  # the AAC priming edit survives
    assert child(audio_init, "moov/trak/mdia/minf/stbl/stsd") is not None
    systems = [ProtectionSystemHeader.parse(b) for b in iter_boxes(moov.payload) if b.type == "pssh"]
    assert [str(p.system_id)[:8] for p in systems] == ["1077efec", "edef8ba9", "9a04f079"]
    assert systems[0].kids == (KEY.kid, AUDIO_KEY.kid)
    segment = (titles[scheme] / "video/360p/seg-00001.m4s").read_bytes()
    clear = (titles["clear"] / "video/360p/seg-00001.m4s").read_bytes()
    assert len(segment) > len(clear)
    for moof in (b for b in iter_boxes(segment) if b.type == "moof"):
        traf = child(moof, "traf")
        assert traf is not None
        parts = {b.type: b for b in iter_boxes(traf.payload)}
        iv_size = 8 if scheme == "cenc" else 0
        senc = SampleEncryptionBox.parse(parts["senc"], iv_size)
        saiz = AuxInfoSizes.parse(parts["saiz"])
        (offset,) = AuxInfoOffsets.parse(parts["saio"]).offsets
        assert saiz.sample_count == len(senc.samples)
        # saio counts from the moof's first byte to senc's first entry (8 header + 4 + 4 count);
        # child offsets are relative to their parent's payload, 8 bytes past its start.
        senc_at = 8 + traf.offset + 8 + parts["senc"].offset
        assert offset == senc_at + 16
        assert segment[moof.offset + offset - 12 : moof.offset + offset - 8] == b"senc"
        assert all(s.subsamples for s in senc.samples)


def test_decrypting_without_the_key_names_the_kid(titles: dict[str, Path]) -> None:
    with pytest.raises(PackagingError, match=f"no key for KID {KEY.kid_hex}"):
        decrypt_file(_joined(titles["cenc"], RENDITIONS["video"]), {AUDIO_KEY.kid: AUDIO_KEY.key})


def test_a_clear_file_passes_through_decryption_unchanged(titles: dict[str, Path]) -> None:
    clear = _joined(titles["clear"], RENDITIONS["video"])
    assert decrypt_file(clear, KEYS) == clear
