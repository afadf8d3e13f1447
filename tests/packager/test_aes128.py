"""The HLS METHOD=AES-128 variant set: whole-file AES-128-CBC + PKCS7 and its playlists."""

from __future__ import annotations

import itertools
import subprocess
from typing import TYPE_CHECKING

import m3u8
import pytest

from drm.keys import ContentKey
from packager import aes128
from packager.model import INIT_NAME, MEDIA_PLAYLIST, Presentation, Rendition, segment_name
from packager.segmenter import IFrame, SegmentInfo
from player_test.aes import decrypt, map_key, segment_iv
from player_test.media import MediaError
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from pathlib import Path

# NIST SP 800-38A, Appendix F.2.1 (CBC-AES128.Encrypt).
NIST_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
NIST_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
NIST_PLAIN = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)
NIST_CIPHER = bytes.fromhex(
    "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
)
KEY = ContentKey(bytes(range(16)), bytes(range(16, 32)), "aes128")
URI = "https://drm.example/license/aes128/000102030405060708090a0b0c0d0e0f"


def test_nist_f2_1_blocks_then_one_block_of_pkcs7_padding() -> None:
    sealed = aes128.encrypt(NIST_KEY, NIST_IV, NIST_PLAIN)
    # A whole number of blocks still gets a full block of padding (RFC 5652 §6.3).
    assert sealed[:64] == NIST_CIPHER
    assert len(sealed) == 80
    assert decrypt(NIST_KEY, NIST_IV, sealed) == NIST_PLAIN


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_openssl_decrypts_what_we_encrypt(size: int) -> None:
    # An independent decryptor: the openssl CLI, whose default padding is PKCS7.
    plain = bytes(i % 251 for i in range(size))
    sealed = aes128.encrypt(NIST_KEY, NIST_IV, plain)
    command = ["openssl", "enc", "-d", "-aes-128-cbc", "-K", NIST_KEY.hex(), "-iv", NIST_IV.hex()]
    assert subprocess.run(command, input=sealed, capture_output=True, check=True).stdout == plain


def test_a_key_or_iv_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(PackagingError, match="16-byte"):
        aes128.encrypt(NIST_KEY[:8], NIST_IV, b"x")


def test_the_playlist_gets_a_key_tag_before_the_map_and_each_segment() -> None:
    clear = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.0,\ns1.m4s\n#EXTINF:2.0,\ns2.m4s\n#EXT-X-ENDLIST\n'
    ivs = [bytes([i]) * 16 for i in range(3)]
    text = aes128.keyed_playlist(clear, URI, ivs)
    lines = text.splitlines()
    assert lines[1] == f'#EXT-X-KEY:METHOD=AES-128,URI="{URI}",IV=0x{"00" * 16}'
    assert lines[2] == '#EXT-X-MAP:URI="init.mp4"'
    assert lines[3].endswith(f"IV=0x{'01' * 16}")
    assert lines[6].endswith(f"IV=0x{'02' * 16}")
    parsed = m3u8.loads(text)
    assert [(s.key.method, s.key.iv) for s in parsed.segments] == [
        ("AES-128", "0x" + "01" * 16),
        ("AES-128", "0x" + "02" * 16),
    ]
    with pytest.raises(PackagingError, match="fewer IVs"):
        aes128.keyed_playlist(clear, URI, ivs[:2])
    with pytest.raises(PackagingError, match="more IVs"):
        aes128.keyed_playlist(clear, URI, [*ivs, ivs[0]])


def test_the_checker_reads_the_key_of_the_map_and_needs_its_iv() -> None:
    text = aes128.keyed_playlist(
        '#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.0,\ns1.m4s\n', "/k", [b"\x07" * 16, b"\x08" * 16]
    )
    key = map_key(text, "https://cdn.example/t/hls-aes128/video/360p/index.m3u8")
    assert key is not None
    assert (key.uri, key.iv) == ("https://cdn.example/k", b"\x07" * 16)
    # A key tag after the map leaves the init segment clear (§4.3.2.4).
    assert map_key('#EXT-X-MAP:URI="init.mp4"\n#EXT-X-KEY:METHOD=AES-128,URI="/k"\n', "https://a/") is None
    with pytest.raises(MediaError, match="IV"):
        map_key('#EXT-X-KEY:METHOD=AES-128,URI="/k"\n#EXT-X-MAP:URI="init.mp4"\n', "https://a/")


def _rendition(kind: str, name: str, count: int) -> Rendition:
    segments = tuple(
        SegmentInfo(n, (n - 1) * 90_000, 90_000, 1000, 100, (IFrame(24, 100, (n - 1) * 90_000, 90_000),))
        for n in range(1, count + 1)
    )
    if kind == "audio":
        return Rendition("audio", name, "mp4a.40.2", 90_000, segments, language="en", channels=2)
    return Rendition("video", name, "avc1.64001e", 90_000, segments, 640, 360)


def test_the_variant_set_decrypts_back_to_the_clear_files(tmp_path: Path) -> None:
    video, audio = _rendition("video", "360p", 2), _rendition("audio", "en", 2)
    clear, out = tmp_path / "clear", tmp_path / "out"
    files: dict[str, bytes] = {}
    for r in (video, audio):
        (clear / r.path).mkdir(parents=True)
        for i, name in enumerate([INIT_NAME, segment_name(1), segment_name(2)]):
            files[f"{r.path}/{name}"] = body = f"{r.path} {name} ".encode() * (i + 3)
            (clear / r.path / name).write_bytes(body)
    counter = itertools.count()
    aes128.write_variant(
        Presentation((video,), (audio,)),
        clear,
        out,
        KEY,
        URI,
        random_bytes=lambda n: bytes([next(counter)]) * n,
    )

    master = m3u8.loads((out / aes128.MASTER).read_text())
    assert [p.uri for p in master.playlists] == ["hls-aes128/video/360p/index.m3u8"]
    assert [m.uri for m in master.media] == ["hls-aes128/audio/en/index.m3u8"]
    assert not master.iframe_playlists
    ivs = set()
    for r in (video, audio):
        base = f"https://cdn.example/{aes128.FOLDER}/{r.path}/{MEDIA_PLAYLIST}"
        text = (out / aes128.FOLDER / r.path / MEDIA_PLAYLIST).read_text()
        init_key = map_key(text, base)
        assert init_key is not None
        assert init_key.uri == URI
        init = (out / aes128.FOLDER / r.path / INIT_NAME).read_bytes()
        assert init != files[f"{r.path}/{INIT_NAME}"]
        assert decrypt(KEY.key, init_key.iv, init) == files[f"{r.path}/{INIT_NAME}"]
        ivs.add(init_key.iv)
        playlist = m3u8.loads(text)
        for s in playlist.segments:
            assert (s.key.method, s.key.uri) == ("AES-128", URI)
            iv = segment_iv(s.key.iv, 0)
            ivs.add(iv)
            body = (out / aes128.FOLDER / r.path / s.uri).read_bytes()
            assert decrypt(KEY.key, iv, body) == files[f"{r.path}/{s.uri}"]
    assert len(ivs) == 6  # every file its own IV
    with pytest.raises(MediaError, match="padding"):
        decrypt(bytes(16), ivs.pop(), (out / aes128.FOLDER / video.path / INIT_NAME).read_bytes())
