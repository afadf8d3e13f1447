"""TrackProtector on synthetic tracks: which sample entries it takes, and what it writes per fragment."""

from __future__ import annotations

import pytest

from drm.keys import ContentKey
from packager.cenc import Subsample, decrypt_sample
from packager.isobmff.box import iter_boxes
from packager.isobmff.movie import SampleEntry, TrackDefaults, TrackHeader
from packager.isobmff.sample_aux import AuxInfoOffsets, AuxInfoSizes, SampleEncryptionBox
from packager.protect import Encryption, TrackProtector
from packager.samples import Sample
from vodpipe.errors import PackagingError

KEY = ContentKey(bytes(range(16)), bytes(range(16, 32)))
AVCC = bytes([1, 0x64, 0, 0x1F, 0xFF])  # lengthSizeMinusOne = 3


def counting(n: int) -> bytes:
    return bytes(i % 256 for i in range(n))


def header(fourcc: str, handler: str = "vide", config: dict[str, bytes] | None = None) -> TrackHeader:
    return TrackHeader(
        1, handler, 90_000, "und", SampleEntry(fourcc, 640, 360, config=config), TrackDefaults()
    )


def test_video_samples_are_subsample_encrypted_and_described_in_senc() -> None:
    encryption = Encryption("cenc", {"sd": KEY}, random_bytes=lambda n: bytes(n))
    protector = TrackProtector(encryption, header("avc1", config={"avcC": AVCC}), 360)
    nal = (500).to_bytes(4, "big") + b"\x65" + counting(499)
    run = protector.protect([Sample(0, 3000, 0, 0, nal), Sample(3000, 3000, 0, 0, nal)])
    first, second = run.payload[: len(nal)], run.payload[len(nal) :]
    assert first[:36] == nal[:36]  # prefix, NAL header and slice leader stay clear
    assert first != nal
    assert [e.iv.hex() for e in run.entries] == ["0000000000000000", "0000000000000001"]
    assert run.entries[0].subsamples == (Subsample(36 + 4, 464),)
    assert decrypt_sample(KEY.key, run.entries[1].iv, bytes(second), run.entries[1].subsamples, "cenc") == nal
    boxes = run.boxes(100)
    saiz, saio, senc = iter_boxes(boxes)
    assert (saiz.type, saio.type, senc.type) == ("saiz", "saio", "senc")
    assert AuxInfoSizes.parse(saiz).default_size == 8 + 2 + 6
    # 100 bytes into the moof come saiz and saio, then senc's 16-byte header.
    assert AuxInfoOffsets.parse(saio).offsets == (100 + saiz.size + saio.size + 16,)
    assert len(SampleEncryptionBox.parse(senc, 8).samples) == 2


def test_cbcs_audio_has_no_ivs_in_senc_and_a_table_of_zero_sizes() -> None:
    encryption = Encryption("cbcs", {"audio": KEY}, random_bytes=lambda n: bytes(range(n)))
    protector = TrackProtector(encryption, header("mp4a", "soun"))
    assert (protector.sample_entry_type, protector.pattern) == ("enca", (0, 0))
    run = protector.protect([Sample(0, 1024, 0, 0, counting(300))])
    tenc = protector.sinf().tenc
    assert (tenc.version, tenc.per_sample_iv_size, tenc.constant_iv) == (1, 0, bytes(range(16)))
    assert run.payload[288:] == counting(300)[288:]  # the partial last block stays clear
    saiz = AuxInfoSizes.parse(next(iter_boxes(run.boxes(0))))
    assert (saiz.default_size, saiz.sizes) == (0, (0,))


def test_unsupported_sample_entries_are_refused() -> None:
    encryption = Encryption("cenc", {"all": KEY})
    with pytest.raises(PackagingError, match="cannot encrypt 'vp09' samples"):
        TrackProtector(encryption, header("vp09"))
    with pytest.raises(PackagingError, match="avc1 sample entry has no avcC"):
        TrackProtector(encryption, header("avc1"))
