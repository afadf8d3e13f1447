"""Protection boxes: golden bytes worked out by hand from ISO/IEC 23001-7 §7.2, §8.1, §8.2 and
ISO/IEC 14496-12 §8.7.8, §8.7.9, §8.12; and a round trip through parse for every box."""

from __future__ import annotations

import uuid

import pytest

from packager.cenc import Subsample
from packager.isobmff.box import iter_boxes
from packager.isobmff.protection import OriginalFormat, ProtectionSchemeInfo, SchemeType, TrackEncryption
from packager.isobmff.pssh import ProtectionSystemHeader
from packager.isobmff.sample_aux import (
    AuxInfoOffsets,
    AuxInfoSizes,
    SampleEncryption,
    SampleEncryptionBox,
)
from vodpipe.errors import BoxParseError

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
IV16 = bytes.fromhex("00112233445566778899aabbccddeeff")


def _parsed(data: bytes):  # type: ignore[no-untyped-def]
    (only,) = iter_boxes(data)
    return only


def test_tenc_v0_cenc_golden() -> None:
    tenc = TrackEncryption(KID)
    expected = "0000002074656e630000000000000108" + KID.hex()
    assert tenc.to_bytes().hex() == expected
    assert TrackEncryption.parse(_parsed(tenc.to_bytes())) == tenc


def test_tenc_v1_cbcs_pattern_and_constant_iv_golden() -> None:
    tenc = TrackEncryption(KID, 1, 0, 1, 9, IV16, version=1)
    expected = "0000003174656e630100000000190100" + KID.hex() + "10" + IV16.hex()
    assert tenc.to_bytes().hex() == expected
    assert TrackEncryption.parse(_parsed(tenc.to_bytes())) == tenc


def test_senc_with_subsamples_golden() -> None:
    senc = SampleEncryptionBox(
        (
            SampleEncryption(bytes.fromhex("0000000000000001"), (Subsample(36, 960),)),
            SampleEncryption(bytes.fromhex("0000000000000002"), (Subsample(10, 0),)),
        )
    )
    expected = (
        "0000003073656e630000000200000002000000000000000100010024000003c000000000000000020001000a00000000"
    )
    assert senc.to_bytes().hex() == expected
    assert SampleEncryptionBox.parse(_parsed(senc.to_bytes()), 8) == senc
    assert [s.aux_size() for s in senc.samples] == [16, 16]


def test_senc_constant_iv_whole_samples_golden() -> None:
    senc = SampleEncryptionBox((SampleEncryption(b""), SampleEncryption(b"")))
    assert senc.to_bytes().hex() == "0000001073656e630000000000000002"
    assert SampleEncryptionBox.parse(_parsed(senc.to_bytes()), 0) == senc
    assert senc.samples[0].aux_size() == 0


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        pytest.param([16, 16], "000000117361697a000000001000000002", id="default-size"),
        pytest.param([16, 22], "000000137361697a0000000000000000021016", id="per-sample"),
    ],
)
def test_saiz_golden(sizes: list[int], expected: str) -> None:
    saiz = AuxInfoSizes.of(sizes)
    assert saiz.to_bytes().hex() == expected
    assert AuxInfoSizes.parse(_parsed(saiz.to_bytes())) == saiz


def test_saio_golden() -> None:
    saio = AuxInfoOffsets((100,))
    assert saio.to_bytes().hex() == "000000147361696f000000000000000100000064"
    assert AuxInfoOffsets.parse(_parsed(saio.to_bytes())) == saio
    wide = AuxInfoOffsets((1 << 33,))
    assert AuxInfoOffsets.parse(_parsed(wide.to_bytes())) == wide


def test_sinf_round_trip_and_children_order() -> None:
    sinf = ProtectionSchemeInfo(
        OriginalFormat("avc1"), SchemeType("cbcs"), TrackEncryption(KID, 1, 0, 1, 9, IV16, 1)
    )
    data = sinf.to_bytes()
    assert [b.type for b in iter_boxes(_parsed(data).payload)] == ["frma", "schm", "schi"]
    assert OriginalFormat("avc1").to_bytes().hex() == "0000000c66726d6161766331"
    assert SchemeType("cenc").to_bytes().hex() == "000000147363686d0000000063656e6300010000"
    assert ProtectionSchemeInfo.parse(_parsed(data)) == sinf


def test_pssh_v1_round_trip() -> None:
    pssh = ProtectionSystemHeader(uuid.UUID(int=5), (KID, IV16), b"xyz")
    assert ProtectionSystemHeader.parse(_parsed(pssh.to_bytes())) == pssh


def test_truncated_tenc_names_the_box() -> None:
    data = TrackEncryption(KID).to_bytes()
    short = (len(data) - 4).to_bytes(4, "big") + data[4:-4]
    with pytest.raises(BoxParseError, match="default_KID is truncated") as info:
        TrackEncryption.parse(_parsed(short))
    assert info.value.fourcc == "tenc"
