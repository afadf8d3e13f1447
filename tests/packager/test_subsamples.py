from __future__ import annotations

import pytest

from packager.cenc import Subsample
from packager.subsamples import avc_length_size, hevc_length_size, nal_subsamples
from vodpipe.errors import PackagingError


def _nal(header: int, size: int, length_size: int = 4) -> bytes:
    return size.to_bytes(length_size, "big") + bytes([header]) + bytes(size - 1)


AUD = _nal(0x09, 2)
SPS = _nal(0x67, 20)
PPS = _nal(0x68, 6)
IDR = _nal(0x65, 1000)
SLICE = _nal(0x41, 40)  # short: only 8 bytes past the 32-byte leader


def test_cbcs_leaves_parameter_sets_and_slice_leader_clear() -> None:
    sample = AUD + SPS + PPS + IDR
    clear = len(AUD) + len(SPS) + len(PPS) + 4 + 32
    assert nal_subsamples(sample, 4, "cbcs") == [Subsample(clear, 1000 - 32)]


def test_cenc_protects_whole_blocks_and_clear_absorbs_the_rest() -> None:
    # 968 protected bytes → 960 (60 blocks); the 8 left over join the clear part.
    assert nal_subsamples(AUD + IDR, 4, "cenc") == [Subsample(len(AUD) + 4 + 32 + 8, 960)]


def test_trailing_non_vcl_and_short_slices_become_a_clear_subsample() -> None:
    sample = IDR + SLICE + _nal(0x06, 10)
    expected = [Subsample(36, 968), Subsample(44 + 14, 0)]
    result = nal_subsamples(sample, 4, "cbcs")
    assert result == expected
    # A slice with less than one block past its leader stays clear under either scheme.
    assert nal_subsamples(SLICE, 4, "cbcs") == [Subsample(44, 0)]
    assert nal_subsamples(SLICE, 4, "cenc") == [Subsample(44, 0)]


def test_length_size_comes_from_the_configuration_record() -> None:
    avcc = bytes([1, 0x64, 0, 0x1F, 0xFD])  # lengthSizeMinusOne = 1
    assert avc_length_size(avcc) == 2
    assert hevc_length_size(bytes(21) + b"\x03") == 4
    two_byte = _nal(0x09, 2, 2) + _nal(0x65, 100, 2)
    assert nal_subsamples(two_byte, 2, "cbcs") == [Subsample(4 + 2 + 32, 68)]


def test_hevc_vcl_types_are_protected() -> None:
    idr = (100).to_bytes(4, "big") + bytes([19 << 1, 1]) + bytes(98)  # IDR_W_RADL
    vps = (10).to_bytes(4, "big") + bytes([32 << 1, 1]) + bytes(8)
    assert nal_subsamples(vps + idr, 4, "cbcs", hevc=True) == [Subsample(14 + 4 + 32, 68)]


def test_long_clear_runs_split_at_the_16_bit_limit() -> None:
    sei = _nal(0x06, 70000)
    result = nal_subsamples(sei + IDR, 4, "cbcs")
    assert result == [Subsample(0xFFFF, 0), Subsample(70004 - 0xFFFF + 36, 968)]


@pytest.mark.parametrize(
    "sample",
    [
        pytest.param(IDR[:-1], id="nal-runs-past-sample"),
        pytest.param(IDR + b"\x00\x00", id="truncated-length-prefix"),
        pytest.param(bytes(4) + IDR, id="zero-length-nal"),
    ],
)
def test_malformed_samples_are_packaging_errors(sample: bytes) -> None:
    with pytest.raises(PackagingError, match="NAL"):
        nal_subsamples(sample, 4, "cbcs")
