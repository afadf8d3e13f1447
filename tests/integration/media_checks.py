"""Independent readings of fetched media: PyAV decodes, raw box walks for timing."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from fractions import Fraction

import av


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the boxes laid end to end in data[start:end]."""
    out = []
    pos, stop = start, len(data) if end is None else end
    while pos < stop:
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind.decode(), pos, size))
        pos += size
    return out


def find(data: bytes, path: list[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Payload (start, end) of every box along a path of container types."""
    found = []
    for kind, offset, size in boxes(data, start, end):
        if kind == path[0]:
            payload = (offset + 8, offset + size)
            found += [payload] if len(path) == 1 else find(data, path[1:], *payload)
    return found


def timescale(init: bytes) -> int:
    ((start, _),) = find(init, ["moov", "trak", "mdia", "mdhd"])
    version = init[start]
    return struct.unpack_from(">I", init, start + (20 if version == 1 else 12))[0]


@dataclass(frozen=True)
class Timing:
    start: int
    duration: int


def segment_timing(segment: bytes, default_duration: int = 0) -> Timing:
    """First decode time and summed sample durations of a CMAF segment (tfdt + trun)."""
    first: int | None = None
    total = 0
    for moof_start, moof_end in find(segment, ["moof"]):
        for traf_start, traf_end in find(segment, ["traf"], moof_start, moof_end):
            ((tfdt, _),) = find(segment, ["tfdt"], traf_start, traf_end)
            fmt = ">Q" if segment[tfdt] == 1 else ">I"
            decode = struct.unpack_from(fmt, segment, tfdt + 4)[0]
            first = decode if first is None else first
            ((trun, _),) = find(segment, ["trun"], traf_start, traf_end)
            flags = int.from_bytes(segment[trun + 1 : trun + 4], "big")
            count = struct.unpack_from(">I", segment, trun + 4)[0]
            pos = trun + 8 + (4 if flags & 1 else 0) + (4 if flags & 4 else 0)
            fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
            for _ in range(count):
                total += struct.unpack_from(">I", segment, pos)[0] if 0x100 in fields else default_duration
                pos += 4 * len(fields)
    assert first is not None
    return Timing(first, total)


def avc_codec(init: bytes) -> str:
    at = init.index(b"avcC") + 4
    return f"avc1.{init[at + 1]:02x}{init[at + 2]:02x}{init[at + 3]:02x}"


@dataclass(frozen=True)
class Decoded:
    frames: int
    width: int
    height: int
    duration: Fraction
    profile: str | None


def decode(init: bytes, segments: list[bytes]) -> Decoded:
    """Decode a whole rendition with PyAV from its init and media segments."""
    with av.open(io.BytesIO(init + b"".join(segments))) as container:
        stream = container.streams[0]
        frames = width = height = 0
        end = Fraction(0)
        for frame in container.decode(stream):
            frames += 1
            if stream.type == "video":
                width, height = frame.width, frame.height
                end = max(end, Fraction(frame.pts * frame.time_base) if frame.pts is not None else end)
            else:
                end = max(
                    end, Fraction(frame.pts * frame.time_base) + Fraction(frame.samples, frame.sample_rate)
                )
        return Decoded(frames, width, height, end, stream.codec_context.profile)


def count_frames(path: str) -> int:
    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))
