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
    if entry.fourcc == "mp4a":
        esds = entry.config_box("esds")
        if esds is None:
            raise PackagingError("mp4a sample entry has no esds")
        return mp4a_codec(esds)
    raise PackagingError(f"no codec string rule for sample entry '{entry.fourcc}'")
