from __future__ import annotations

import pytest

from packager.codecs import avc_codec, codec_string, mp4a_codec
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
