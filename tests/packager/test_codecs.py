from __future__ import annotations

import pytest

from packager.codecs import av1_codec, avc_codec, codec_string, hevc_codec, mp4a_codec
from packager.isobmff.movie import SampleEntry
from vodpipe.errors import PackagingError

# The esds that FFmpeg 9 writes for AAC-LC 48 kHz stereo.
ESDS_AAC_LC = bytes.fromhex(
    "00000000"
    "0380808025"
    "0001"
    "00"  # ES_Descriptor: ES_ID 1, no flags
    "0480808017"
    "40"
    "15"
    "000000"
    "0001f400"
    "0001f400"  # DecoderConfig: MPEG-4 audio
    "0580808005"
    "1190"
    "56e500"  # DecoderSpecificInfo: AAC-LC, 48 kHz, stereo
    "068080800102"  # SLConfig
)


@pytest.mark.parametrize(
    ("avcc", "expected"),
    [
        pytest.param(bytes.fromhex("0164001fffe1"), "avc1.64001f", id="high-3.1"),
        pytest.param(bytes.fromhex("0142c01eff"), "avc1.42c01e", id="constrained-baseline-3.0"),
        pytest.param(bytes.fromhex("014d4028ff"), "avc1.4d4028", id="main-4.0"),
    ],
)
def test_avc_codec_string(avcc: bytes, expected: str) -> None:
    assert avc_codec("avc1", avcc) == expected


def test_aac_lc_codec_string() -> None:
    assert mp4a_codec(ESDS_AAC_LC) == "mp4a.40.2"


def test_he_aac_codec_string() -> None:
    he = ESDS_AAC_LC.replace(bytes.fromhex("1190"), bytes.fromhex("2b10"))  # object type 5 (SBR)
    assert mp4a_codec(he) == "mp4a.40.5"


def test_truncated_esds_is_an_error() -> None:
    with pytest.raises(PackagingError, match="truncated"):
        mp4a_codec(ESDS_AAC_LC[:20])


def test_codec_string_needs_configuration() -> None:
    with pytest.raises(PackagingError, match="no avcC"):
        codec_string(SampleEntry("avc1", 640, 360, config={}))
    with pytest.raises(PackagingError, match="no codec string rule"):
        codec_string(SampleEntry("mp4v"))


# hvcC fields up to general_level_idc (ISO/IEC 14496-15 §8.3.3.1.2); the NAL arrays are not read.
@pytest.mark.parametrize(
    ("fourcc", "hvcc", "expected"),
    [
        # Main, compatible with Main and Main 10 (flags 1, 2), Main tier level 3.1, progressive, frame-only
        pytest.param("hvc1", "0101600000009000000000005d", "hvc1.1.6.L93.90", id="main-3.1"),
        # Main 10 (flag 2 only), High tier level 4, progressive, non-packed, frame-only
        pytest.param("hev1", "012220000000b0000000000078", "hev1.2.4.H120.B0", id="main10-high-4"),
        # profile space 1 (A), profile 4 (RExt), flag 4 reversed is 0x10; a constraint byte after a zero
        pytest.param("hvc1", "01440800000098080000000099", "hvc1.A4.10.L153.98.08", id="space-A-rext"),
        # every constraint byte zero: the first one is still written
        pytest.param("hvc1", "0101600000000000000000003c", "hvc1.1.6.L60.00", id="no-constraints"),
    ],
)
def test_hevc_codec_string(fourcc: str, hvcc: str, expected: str) -> None:
    assert hevc_codec(fourcc, bytes.fromhex(hvcc) + bytes(10)) == expected


# av1C (AV1 ISOBMFF binding §2.3.3): marker+version, profile+level, tier/depth/mono/chroma, delay.
@pytest.mark.parametrize(
    ("av1c", "colr", "expected"),
    [
        pytest.param("81080c00", None, "av01.0.08M.08", id="main-4.0-8bit"),
        pytest.param("810dcc00", None, "av01.0.13H.10", id="main-5.1-high-tier-10bit"),
        pytest.param("814d6000", None, "av01.2.13M.12.0.000.01.01.01.0", id="professional-12bit-444"),
        pytest.param("81041c00", None, "av01.0.04M.08.1.110.01.01.01.0", id="monochrome"),
        # nclx BT.2020 / PQ / BT.2020 NCL, limited range: the colour of the binding's HDR10 example
        pytest.param("81084c00", "6e636c7800090010000900", "av01.0.08M.10.0.110.09.16.09.0", id="hdr10"),
        pytest.param("81080c00", "6e636c7800010001000100", "av01.0.08M.08", id="bt709-default"),
        pytest.param("81080c00", "7249434300", "av01.0.08M.08", id="icc-profile-not-nclx"),
        # all three unspecified is no colour description (FFmpeg's dash muxer writes the short form)
        pytest.param("81080c00", "6e636c7800020002000200", "av01.0.08M.08", id="unspecified"),
        pytest.param("81080c00", "6e636c7800010001000180", "av01.0.08M.08.0.110.01.01.01.1", id="full-range"),
    ],
)
def test_av1_codec_string(av1c: str, colr: str | None, expected: str) -> None:
    assert av1_codec(bytes.fromhex(av1c), bytes.fromhex(colr) if colr else None) == expected


def test_malformed_hevc_and_av1_records_are_errors() -> None:
    with pytest.raises(PackagingError, match="not an HEVCDecoderConfigurationRecord"):
        hevc_codec("hvc1", bytes.fromhex("0101600000"))
    with pytest.raises(PackagingError, match="not an AV1CodecConfigurationRecord"):
        av1_codec(bytes.fromhex("01080c00"))
    with pytest.raises(PackagingError, match="no hvcC"):
        codec_string(SampleEntry("hev1", 640, 360, config={}))
    with pytest.raises(PackagingError, match="no av1C"):
        codec_string(SampleEntry("av01", 640, 360, config={}))
