"""Generic box framing (ISO/IEC 14496-12 §4.2): size, type, 64-bit largesize, full-box header."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vodpipe.errors import BoxParseError

if TYPE_CHECKING:
    from collections.abc import Iterator

_HEADER = struct.Struct(">I4s")
_LARGESIZE = struct.Struct(">Q")


@dataclass(frozen=True)
class Box:
    """One box found in a buffer: its type, where it starts, and its payload (after the header)."""

    type: str
    offset: int
    size: int
    payload: memoryview


def iter_boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Yield the boxes laid end to end in ``data[start:end]``; offsets are absolute in ``data``."""
    buf = memoryview(data)
    stop = len(buf) if end is None else end
    pos = start
    while pos < stop:
        if stop - pos < _HEADER.size:
            raise BoxParseError("????", pos, f"{stop - pos} trailing bytes are too few for a header")
        size, raw_type = _HEADER.unpack_from(buf, pos)
        fourcc = raw_type.decode("latin-1")
        header = _HEADER.size
        if size == 1:  # §4.2: the real size follows as a 64-bit largesize
            if stop - pos < header + _LARGESIZE.size:
                raise BoxParseError(fourcc, pos, "largesize is truncated")
            (size,) = _LARGESIZE.unpack_from(buf, pos + header)
            header += _LARGESIZE.size
        elif size == 0:  # §4.2: the box extends to the end of the enclosing container
            size = stop - pos
        if size < header:
            raise BoxParseError(fourcc, pos, f"size {size} is smaller than its header")
        if pos + size > stop:
            raise BoxParseError(fourcc, pos, f"size {size} runs past the end ({stop - pos} left)")
        yield Box(fourcc, pos, size, buf[pos + header : pos + size])
        pos += size


def child(parent: Box | bytes | memoryview, path: str) -> Box | None:
    """The first box along a ``/``-separated path of types (``"moov/trak/mdia/mdhd"``)."""
    payload = parent.payload if isinstance(parent, Box) else memoryview(parent)
    found: Box | None = None
    for fourcc in path.split("/"):
        found = next((b for b in iter_boxes(payload) if b.type == fourcc), None)
        if found is None:
            return None
        payload = found.payload
    return found


def parse_full_header(b: Box) -> tuple[int, int, memoryview]:
    """Split a FullBox (§4.2) into version, flags and the rest of its payload."""
    if len(b.payload) < 4:
        raise BoxParseError(b.type, b.offset, "full box header is truncated")
    version = b.payload[0]
    flags = int.from_bytes(b.payload[1:4], "big")
    return version, flags, b.payload[4:]


def box_header(fourcc: str, payload_size: int) -> bytes:
    """The header of a box with ``payload_size`` bytes, using a 64-bit largesize only when needed."""
    raw_type = fourcc.encode("latin-1")
    if len(raw_type) != 4:
        raise ValueError(f"box type must be four characters, got {fourcc!r}")
    size = _HEADER.size + payload_size
    if size <= 0xFFFFFFFF:
        return _HEADER.pack(size, raw_type)
    return _HEADER.pack(1, raw_type) + _LARGESIZE.pack(size + _LARGESIZE.size)


def box(fourcc: str, *payload: bytes | bytearray) -> bytes:
    """Frame ``payload`` as a box, using a 64-bit largesize only when it is needed."""
    body = b"".join(payload)
    return box_header(fourcc, len(body)) + body


def full_box(fourcc: str, version: int, flags: int, *payload: bytes) -> bytes:
    """Frame a FullBox: one byte of version and three of flags before the payload."""
    return box(fourcc, bytes([version]), flags.to_bytes(3, "big"), *payload)
