"""Per-sample encryption data in a fragment: senc (ISO/IEC 23001-7 §7.2), saiz and saio
(ISO/IEC 14496-12 §8.7.8, §8.7.9).

senc holds each sample's IV and subsamples; saiz gives each sample's size of that data and saio
where it starts. With default-base-is-moof (CMAF) saio's offset counts from the moof's first byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from packager.cenc import Subsample
from packager.isobmff.box import Box, full_box, parse_full_header
from vodpipe.errors import BoxParseError

SENC_USE_SUBSAMPLES = 0x000002  # §7.2.2 flags
SENC_HEADER = 16  # box header, version/flags, sample_count: where the first entry starts
_SUBSAMPLE = struct.Struct(">HI")


class SampleEncryption(NamedTuple):
    """One sample's senc entry: its IV (empty under a constant IV) and its subsamples."""

    iv: bytes
    subsamples: tuple[Subsample, ...] | None = None

    def aux_size(self) -> int:
        """Bytes of this entry, which saiz records (§8.7.8)."""
        return len(self.iv) + (2 + 6 * len(self.subsamples) if self.subsamples is not None else 0)


@dataclass(frozen=True)
class SampleEncryptionBox:
    """senc: every sample's entry; subsamples present for all samples or for none."""

    samples: tuple[SampleEncryption, ...]

    @property
    def uses_subsamples(self) -> bool:
        return any(s.subsamples is not None for s in self.samples)

    @classmethod
    def parse(cls, b: Box, iv_size: int) -> SampleEncryptionBox:
        """``iv_size`` comes from tenc (the box does not say it)."""
        _, flags, rest = parse_full_header(b)
        if len(rest) < 4:
            raise BoxParseError(b.type, b.offset, "sample_count is truncated")
        count = int.from_bytes(rest[:4], "big")
        pos = 4
        samples = []
        for i in range(count):
            if len(rest) < pos + iv_size:
                raise BoxParseError(b.type, b.offset, f"sample {i} IV is truncated")
            iv = bytes(rest[pos : pos + iv_size])
            pos += iv_size
            subsamples = None
            if flags & SENC_USE_SUBSAMPLES:
                if len(rest) < pos + 2:
                    raise BoxParseError(b.type, b.offset, f"sample {i} subsample_count is truncated")
                n = int.from_bytes(rest[pos : pos + 2], "big")
                pos += 2
                if len(rest) < pos + 6 * n:
                    raise BoxParseError(b.type, b.offset, f"sample {i} subsamples are truncated")
                subsamples = tuple(map(Subsample._make, _SUBSAMPLE.iter_unpack(rest[pos : pos + 6 * n])))
                pos += 6 * n
            samples.append(SampleEncryption(iv, subsamples))
        return cls(tuple(samples))

    def to_bytes(self) -> bytes:
        subsampled = self.uses_subsamples
        parts = [len(self.samples).to_bytes(4, "big")]
        for s in self.samples:
            parts.append(s.iv)
            if subsampled:
                entries = s.subsamples or ()
                # subsample_count, then each entry's BytesOfClearData and BytesOfProtectedData.
                fmt = ">H" + "HI" * len(entries)
                parts.append(struct.pack(fmt, len(entries), *chain.from_iterable(entries)))
        return full_box("senc", 0, SENC_USE_SUBSAMPLES if subsampled else 0, *parts)


@dataclass(frozen=True)
class AuxInfoSizes:
    """saiz: one size per sample, or a default when all are equal (written as such)."""

    default_size: int
    sizes: tuple[int, ...]
    sample_count: int

    @classmethod
    def of(cls, sizes: list[int]) -> AuxInfoSizes:
        # A default of 0 means "a table follows" (§8.7.8), so all-zero sizes are a table of zeros.
        if sizes and sizes[0] and all(s == sizes[0] for s in sizes):
            return cls(sizes[0], (), len(sizes))
        return cls(0, tuple(sizes), len(sizes))

    @classmethod
    def parse(cls, b: Box) -> AuxInfoSizes:
        _, flags, rest = parse_full_header(b)
        pos = 8 if flags & 1 else 0  # aux_info_type and its parameter
        if len(rest) < pos + 5:
            raise BoxParseError(b.type, b.offset, "sample_count is truncated")
        default = rest[pos]
        count = int.from_bytes(rest[pos + 1 : pos + 5], "big")
        if default:
            return cls(default, (), count)
        if len(rest) < pos + 5 + count:
            raise BoxParseError(b.type, b.offset, f"{count} sizes are truncated")
        return cls(0, tuple(rest[pos + 5 : pos + 5 + count]), count)

    def to_bytes(self) -> bytes:
        body = bytes([self.default_size]) + self.sample_count.to_bytes(4, "big")
        return full_box("saiz", 0, 0, body, bytes(self.sizes) if not self.default_size else b"")


@dataclass(frozen=True)
class AuxInfoOffsets:
    """saio: where the (single, contiguous) run of auxiliary information starts."""

    offsets: tuple[int, ...]

    @classmethod
    def parse(cls, b: Box) -> AuxInfoOffsets:
        version, flags, rest = parse_full_header(b)
        pos = 8 if flags & 1 else 0
        if len(rest) < pos + 4:
            raise BoxParseError(b.type, b.offset, "entry_count is truncated")
        count = int.from_bytes(rest[pos : pos + 4], "big")
        width = 8 if version == 1 else 4
        pos += 4
        if len(rest) < pos + width * count:
            raise BoxParseError(b.type, b.offset, f"{count} offsets are truncated")
        return cls(
            tuple(int.from_bytes(rest[pos + width * i : pos + width * (i + 1)], "big") for i in range(count))
        )

    def to_bytes(self) -> bytes:
        wide = any(o > 0xFFFFFFFF for o in self.offsets)
        width = 8 if wide else 4
        body = b"".join(o.to_bytes(width, "big") for o in self.offsets)
        return full_box("saio", 1 if wide else 0, 0, len(self.offsets).to_bytes(4, "big"), body)
