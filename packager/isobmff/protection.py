"""Protection scheme boxes: frma, schm, tenc and the sinf that holds them.

ISO/IEC 14496-12 §8.12 (sinf, frma, schm, schi) and ISO/IEC 23001-7 §8.2 (tenc). An encrypted
track's sample entry becomes ``encv``/``enca`` and carries a sinf naming the original format,
the scheme (``cenc`` or ``cbcs``) and the track's default KID, IV size, pattern and constant IV.
"""

from __future__ import annotations

from dataclasses import dataclass

from packager.isobmff.box import Box, box, child, full_box, parse_full_header
from vodpipe.errors import BoxParseError

SCHEME_VERSION = 0x00010000  # §4.2 of 23001-7: major 1, minor 0


def _fourcc(b: Box, data: memoryview, at: int = 0) -> str:
    if len(data) < at + 4:
        raise BoxParseError(b.type, b.offset, "four-character code is truncated")
    return bytes(data[at : at + 4]).decode("latin-1")


@dataclass(frozen=True)
class OriginalFormat:
    """frma (§8.12.2): the sample entry type before it was renamed encv/enca."""

    data_format: str

    @classmethod
    def parse(cls, b: Box) -> OriginalFormat:
        return cls(_fourcc(b, b.payload))

    def to_bytes(self) -> bytes:
        return box("frma", self.data_format.encode("latin-1"))


@dataclass(frozen=True)
class SchemeType:
    """schm (§8.12.5): which protection scheme, ``cenc`` or ``cbcs`` (23001-7 §4)."""

    scheme_type: str
    scheme_version: int = SCHEME_VERSION

    @classmethod
    def parse(cls, b: Box) -> SchemeType:
        _, _, rest = parse_full_header(b)
        if len(rest) < 8:
            raise BoxParseError(b.type, b.offset, "scheme_version is truncated")
        return cls(_fourcc(b, rest), int.from_bytes(rest[4:8], "big"))

    def to_bytes(self) -> bytes:
        return full_box(
            "schm", 0, 0, self.scheme_type.encode("latin-1"), self.scheme_version.to_bytes(4, "big")
        )


@dataclass(frozen=True)
class TrackEncryption:
    """tenc (23001-7 §8.2): defaults for every sample of the track.

    Version 0 for ``cenc`` (8-byte per-sample IVs); version 1 carries the crypt:skip pattern and
    ``cbcs`` puts a constant IV here with a per-sample IV size of 0 (§10.4.1).
    """

    default_kid: bytes
    is_protected: int = 1
    per_sample_iv_size: int = 8
    crypt_byte_block: int = 0
    skip_byte_block: int = 0
    constant_iv: bytes = b""
    version: int = 0

    @classmethod
    def parse(cls, b: Box) -> TrackEncryption:
        version, _, rest = parse_full_header(b)
        if version not in (0, 1):
            raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
        if len(rest) < 20:
            raise BoxParseError(b.type, b.offset, "default_KID is truncated")
        crypt, skip = (rest[1] >> 4, rest[1] & 0x0F) if version == 1 else (0, 0)
        protected, iv_size = rest[2], rest[3]
        kid = bytes(rest[4:20])
        constant = b""
        if protected == 1 and iv_size == 0:
            if len(rest) < 21 or len(rest) < 21 + rest[20]:
                raise BoxParseError(b.type, b.offset, "default_constant_IV is truncated")
            constant = bytes(rest[21 : 21 + rest[20]])
        return cls(kid, protected, iv_size, crypt, skip, constant, version)

    def to_bytes(self) -> bytes:
        pattern = (self.crypt_byte_block << 4 | self.skip_byte_block) if self.version == 1 else 0
        fields = bytes([0, pattern, self.is_protected, self.per_sample_iv_size]) + self.default_kid
        if self.is_protected == 1 and self.per_sample_iv_size == 0:
            fields += bytes([len(self.constant_iv)]) + self.constant_iv
        return full_box("tenc", self.version, 0, fields)


@dataclass(frozen=True)
class ProtectionSchemeInfo:
    """sinf (§8.12.1): frma, schm and schi holding the tenc, in that order."""

    original_format: OriginalFormat
    scheme: SchemeType
    tenc: TrackEncryption

    @classmethod
    def parse(cls, b: Box) -> ProtectionSchemeInfo:
        frma = child(b, "frma")
        schm = child(b, "schm")
        tenc = child(b, "schi/tenc")
        if frma is None or schm is None or tenc is None:
            raise BoxParseError(b.type, b.offset, "lacks one of frma, schm, schi/tenc")
        return cls(OriginalFormat.parse(frma), SchemeType.parse(schm), TrackEncryption.parse(tenc))

    def to_bytes(self) -> bytes:
        return box(
            "sinf",
            self.original_format.to_bytes(),
            self.scheme.to_bytes(),
            box("schi", self.tenc.to_bytes()),
        )
