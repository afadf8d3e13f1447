"""pssh (ISO/IEC 23001-7 §8.1): data a DRM system needs to find the keys of a presentation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from packager.isobmff.box import Box, full_box, parse_full_header
from vodpipe.errors import BoxParseError


@dataclass(frozen=True)
class ProtectionSystemHeader:
    """Version 1 lists the KIDs it applies to (§8.1.2); version 0 leaves that to ``data``."""

    system_id: uuid.UUID
    kids: tuple[bytes, ...] = ()
    data: bytes = b""
    version: int = 1

    @classmethod
    def parse(cls, b: Box) -> ProtectionSystemHeader:
        version, _, rest = parse_full_header(b)
        if version not in (0, 1):
            raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
        if len(rest) < 20:
            raise BoxParseError(b.type, b.offset, "SystemID is truncated")
        system_id = uuid.UUID(bytes=bytes(rest[:16]))
        pos = 16
        kids: list[bytes] = []
        if version == 1:
            count = int.from_bytes(rest[pos : pos + 4], "big")
            pos += 4
            if len(rest) < pos + 16 * count + 4:
                raise BoxParseError(b.type, b.offset, f"{count} KIDs are truncated")
            kids = [bytes(rest[pos + 16 * i : pos + 16 * (i + 1)]) for i in range(count)]
            pos += 16 * count
        if len(rest) < pos + 4:
            raise BoxParseError(b.type, b.offset, "DataSize is truncated")
        size = int.from_bytes(rest[pos : pos + 4], "big")
        if len(rest) < pos + 4 + size:
            raise BoxParseError(b.type, b.offset, f"Data of {size} bytes is truncated")
        return cls(system_id, tuple(kids), bytes(rest[pos + 4 : pos + 4 + size]), version)

    def to_bytes(self) -> bytes:
        parts = [self.system_id.bytes]
        if self.version == 1:
            parts.append(len(self.kids).to_bytes(4, "big"))
            parts.extend(self.kids)
        parts += [len(self.data).to_bytes(4, "big"), self.data]
        return full_box("pssh", self.version, 0, *parts)
