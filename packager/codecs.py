"""RFC 6381 codec strings, derived from the sample entry's configuration box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from packager.isobmff.movie import SampleEntry


def avc_codec(fourcc: str, avcc: bytes) -> str:
    """``avc1.PPCCLL`` from an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1)."""
    if len(avcc) < 4 or avcc[0] != 1:
        raise PackagingError("avcC is not an AVCDecoderConfigurationRecord version 1")
    return f"{fourcc}.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def hevc_codec(fourcc: str, hvcc: bytes) -> str:
    """``hvc1.A.B.C.D`` from an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3, Annex E.3).

    Profile space (none, A, B, C) and profile idc; the 32 compatibility flags in reverse bit
    order, in hex without leading zeros; tier (L or H) and level idc; then the six constraint
    indicator bytes in hex, trailing zero bytes left out (the first is always written).
    """
    if len(hvcc) < 13 or hvcc[0] != 1:
        raise PackagingError("hvcC is not an HEVCDecoderConfigurationRecord version 1")
    space = "", "A", "B", "C"
    profile = f"{space[hvcc[1] >> 6]}{hvcc[1] & 0x1F}"
    flags = int.from_bytes(hvcc[2:6], "big")
    reversed_flags = int(f"{flags:032b}"[::-1], 2)
    tier = "H" if hvcc[1] & 0x20 else "L"
    constraints = list(hvcc[6:12])
    while len(constraints) > 1 and constraints[-1] == 0:
        constraints.pop()
    parts = [fourcc, profile, f"{reversed_flags:X}", f"{tier}{hvcc[12]}", *(f"{c:02X}" for c in constraints)]
    return ".".join(parts)


_UNSPECIFIED = 2  # ITU-T H.273 code point 2 for primaries, transfer and matrix alike


def _nclx(colr: bytes | None) -> tuple[int, int, int, int] | None:
    """Colour primaries, transfer, matrix and full-range flag of an nclx colr (ISO/IEC 14496-12 §12.1.5).

    None where there is no colour description: no colr, an ICC one, or all three unspecified
    (what FFmpeg writes for a sequence header without color_description_present_flag).
    """
    if colr is None or len(colr) < 11 or colr[:4] != b"nclx":
        return None
    primaries, transfer, matrix = (int.from_bytes(colr[i : i + 2], "big") for i in (4, 6, 8))
    if primaries == transfer == matrix == _UNSPECIFIED:
        return None
    return primaries, transfer, matrix, colr[10] >> 7


def av1_codec(av1c: bytes, colr: bytes | None = None) -> str:
    """``av01.P.LLT.DD[.M.CCC.cp.tc.mc.F]`` from an av1C (AV1 ISOBMFF binding §2.3.3, and its
    "Codecs Parameter String" section).

    The optional fields are all or none; they are written only where they differ from the
    defaults the binding gives (4:2:0 with unknown sample position, BT.709, limited range).
    """
    if len(av1c) < 4 or av1c[0] != 0x81:  # marker bit and version 1
        raise PackagingError("av1C is not an AV1CodecConfigurationRecord version 1")
    profile, level = av1c[1] >> 5, av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    high_bitdepth, twelve_bit = bool(av1c[2] & 0x40), bool(av1c[2] & 0x20)
    depth = (12 if twelve_bit else 10) if profile == 2 and high_bitdepth else (10 if high_bitdepth else 8)
    short = f"av01.{profile}.{level:02d}{tier}.{depth:02d}"
    mono = (av1c[2] >> 4) & 1
    chroma = f"{(av1c[2] >> 3) & 1}{(av1c[2] >> 2) & 1}{av1c[2] & 0x03}"
    primaries, transfer, matrix, full_range = _nclx(colr) or (1, 1, 1, 0)
    if (mono, chroma, primaries, transfer, matrix, full_range) == (0, "110", 1, 1, 1, 0):
        return short
    return f"{short}.{mono}.{chroma}.{primaries:02d}.{transfer:02d}.{matrix:02d}.{full_range}"


def _descriptor(data: bytes, pos: int) -> tuple[int, int, int]:
    """Tag, payload start and payload end of an MPEG-4 descriptor (ISO/IEC 14496-1 §8.3.3)."""
    tag = data[pos]
    pos += 1
    length = 0
    for _ in range(4):  # size is 1-4 bytes, 7 bits each, high bit says "more"
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, pos, pos + length


def mp4a_codec(esds: bytes) -> str:
    """``mp4a.OO.A`` from an esds: objectTypeIndication and the AudioSpecificConfig's object type."""
    try:
        tag, pos, _ = _descriptor(esds, 4)  # skip the FullBox version/flags
        if tag != 0x03:
            raise PackagingError("esds does not start with an ES_Descriptor")
        flags = esds[pos + 2]
        pos += 3
        pos += 2 if flags & 0x80 else 0  # dependsOn_ES_ID
        pos += 1 + esds[pos] if flags & 0x40 else 0  # URL
        pos += 2 if flags & 0x20 else 0  # OCR_ES_Id
        tag, pos, _end = _descriptor(esds, pos)
        if tag != 0x04:
            raise PackagingError("esds has no DecoderConfigDescriptor")
        object_type = esds[pos]
        if object_type != 0x40:  # not MPEG-4 audio: the OTI alone names it
            return f"mp4a.{object_type:02x}"
        tag, pos, _ = _descriptor(esds, pos + 13)
        if tag != 0x05:
            raise PackagingError("esds has no DecoderSpecificInfo")
        audio_object_type = esds[pos] >> 3
        if audio_object_type == 31:  # escape: 6 more bits follow (ISO/IEC 14496-3 §1.6.2.1)
            audio_object_type = 32 + (((esds[pos] & 0x07) << 3) | (esds[pos + 1] >> 5))
        return f"mp4a.40.{audio_object_type}"
    except IndexError as exc:
        raise PackagingError("esds is truncated") from exc


def codec_string(entry: SampleEntry) -> str:
    """The CODECS / @codecs value for a track's sample entry."""
    if entry.fourcc in ("avc1", "avc3"):
        avcc = entry.config_box("avcC")
        if avcc is None:
            raise PackagingError(f"{entry.fourcc} sample entry has no avcC")
        return avc_codec(entry.fourcc, avcc)
    if entry.fourcc in ("hvc1", "hev1"):
        hvcc = entry.config_box("hvcC")
        if hvcc is None:
            raise PackagingError(f"{entry.fourcc} sample entry has no hvcC")
        return hevc_codec(entry.fourcc, hvcc)
    if entry.fourcc == "av01":
        av1c = entry.config_box("av1C")
        if av1c is None:
            raise PackagingError("av01 sample entry has no av1C")
        return av1_codec(av1c, entry.config_box("colr"))
    if entry.fourcc == "mp4a":
        esds = entry.config_box("esds")
        if esds is None:
            raise PackagingError("mp4a sample entry has no esds")
        return mp4a_codec(esds)
    raise PackagingError(f"no codec string rule for sample entry '{entry.fourcc}'")
