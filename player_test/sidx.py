"""The Segment Index box (ISO/IEC 14496-12 §8.16.3): a DASH SegmentBase's subsegments as byte ranges."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

from player_test.media import MediaError, boxes


@dataclass(frozen=True)
class Subsegment:
    first: int  # absolute offset of its first byte in the file
    last: int  # absolute offset of its last byte, inclusive
    duration: Fraction  # seconds
    starts_with_sap: bool


@dataclass(frozen=True)
class SegmentIndex:
    timescale: int
    earliest_presentation_time: int  # in timescale ticks
    subsegments: list[Subsegment]


def read_sidx(data: bytes, offset: int) -> SegmentIndex:
    """The first sidx in ``data``, the bytes of an @indexRange that starts at file offset ``offset``.

    Byte ranges are absolute: "the anchor point is the first byte after the [sidx] box", plus
    first_offset (§8.16.3.3). A reference_type of 1 points at another sidx (a hierarchical index),
    which no DASH profile for on-demand CMAF uses; it is refused rather than misread.
    """
    sidx = next(((start, size) for kind, start, size in boxes(data) if kind == "sidx"), None)
    if sidx is None:
        raise MediaError("the index range holds no sidx box")
    start, size = sidx
    pos = start + 8
    version = data[pos]
    timescale = struct.unpack_from(">I", data, pos + 8)[0]
    if version == 0:
        earliest, first_offset = struct.unpack_from(">II", data, pos + 12)
        pos += 20
    else:
        earliest, first_offset = struct.unpack_from(">QQ", data, pos + 12)
        pos += 28
    count = struct.unpack_from(">H", data, pos + 2)[0]
    pos += 4
    if not timescale:
        raise MediaError("sidx timescale is 0")
    if pos + 12 * count > start + size:
        raise MediaError(f"sidx declares {count} references but holds {(start + size - pos) // 12}")
    byte = offset + start + size + first_offset
    subsegments = []
    for _ in range(count):
        word, duration, sap = struct.unpack_from(">III", data, pos)
        pos += 12
        if word >> 31:
            raise MediaError("sidx references another sidx (hierarchical index): not supported")
        referenced = word & 0x7FFFFFFF
        subsegments.append(
            Subsegment(byte, byte + referenced - 1, Fraction(duration, timescale), bool(sap >> 31))
        )
        byte += referenced
    return SegmentIndex(timescale, earliest, subsegments)
