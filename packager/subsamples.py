"""Which bytes of a video sample are protected (ISO/IEC 23001-7 §10.2 AVC, §10.3 HEVC).

Samples hold length-prefixed NAL units (ISO/IEC 14496-15). Each NAL unit's length prefix and
header stay clear; non-VCL NAL units (SPS, PPS, SEI, AUD...) stay clear whole, so a player can
parse them without the key. In a VCL NAL unit the first bytes stay clear too, covering the slice
header, which §10.2/§10.3 require to be unencrypted for the pattern schemes: like Apple's
SAMPLE-AES (the 32-byte clear leader of the HLS Sample Encryption spec §2.2.1) vodpipe leaves
the first 32 bytes of every slice NAL unit clear, which spans x264/FFmpeg slice headers.
For ``cenc`` the protected part of each subsample is a whole number of 16-byte blocks, the
clear part absorbing the remainder (§9.5.2 recommends it; Shaka Packager and Bento4 do the same).
"""

from __future__ import annotations

from packager.cenc import BLOCK, Scheme, Subsample
from vodpipe.errors import PackagingError

SLICE_LEADER = 32  # bytes of each VCL NAL unit left clear, NAL header included
MAX_CLEAR = 0xFFFF  # senc BytesOfClearData is 16 bits (§7.2.2)


def avc_length_size(avcc: bytes) -> int:
    """lengthSizeMinusOne + 1 from an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1)."""
    if len(avcc) < 5:
        raise PackagingError("avcC is truncated: no lengthSizeMinusOne")
    return (avcc[4] & 0x03) + 1


def hevc_length_size(hvcc: bytes) -> int:
    """lengthSizeMinusOne + 1 from an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1)."""
    if len(hvcc) < 22:
        raise PackagingError("hvcC is truncated: no lengthSizeMinusOne")
    return (hvcc[21] & 0x03) + 1


def _is_vcl(data: bytes, pos: int, hevc: bool) -> bool:
    if hevc:
        return (data[pos] >> 1) & 0x3F < 32  # H.265 §7.4.2.2: types 0-31 are VCL
    return 1 <= data[pos] & 0x1F <= 5  # H.264 Table 7-1: types 1-5 are coded slices


def nal_subsamples(data: bytes, length_size: int, scheme: Scheme, *, hevc: bool = False) -> list[Subsample]:
    """Subsamples of one video sample: clear prefixes, headers and non-VCL units; slice data protected."""
    out: list[Subsample] = []
    clear = 0
    pos = 0
    size = len(data)
    while pos < size:
        if pos + length_size > size:
            raise PackagingError(f"NAL length prefix at byte {pos} runs past the sample ({size} bytes)")
        length = int.from_bytes(data[pos : pos + length_size], "big")
        start = pos + length_size
        end = start + length
        if end > size or length == 0:
            raise PackagingError(f"NAL unit at byte {pos} has length {length}, the sample has {size}")
        protected = max(0, length - SLICE_LEADER) if _is_vcl(data, start, hevc) else 0
        if scheme == "cenc":
            protected -= protected % BLOCK
        if protected < BLOCK:  # nothing in it would be encrypted under either scheme
            protected = 0
        clear += length_size + length - protected
        if protected:
            while clear > MAX_CLEAR:
                out.append(Subsample(MAX_CLEAR, 0))
                clear -= MAX_CLEAR
            out.append(Subsample(clear, protected))
            clear = 0
        pos = end
    while clear > MAX_CLEAR:
        out.append(Subsample(MAX_CLEAR, 0))
        clear -= MAX_CLEAR
    if clear or not out:
        out.append(Subsample(clear, 0))
    return out
