"""Movie fragment boxes (ISO/IEC 14496-12 §8.8): mfhd, tfhd, tfdt, trun, and file-type brands.

Every box is a frozen dataclass with ``parse`` (from a :class:`Box`) and ``to_bytes``; parsing
what was written gives back an equal value, which the tests check for each one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from packager.isobmff.box import Box, box, full_box, parse_full_header
from vodpipe.errors import BoxParseError

# §8.8.3.1 sample_flags: bit 16 is sample_is_non_sync_sample.
NON_SYNC_SAMPLE = 0x00010000
SYNC_SAMPLE_FLAGS = 0x02000000  # sample_depends_on=2 (an I picture), sync
NON_SYNC_SAMPLE_FLAGS = 0x01010000  # sample_depends_on=1, non-sync

# §8.8.7.1 tfhd flags
TFHD_BASE_DATA_OFFSET = 0x000001
TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002
TFHD_DEFAULT_DURATION = 0x000008
TFHD_DEFAULT_SIZE = 0x000010
TFHD_DEFAULT_FLAGS = 0x000020
TFHD_DURATION_IS_EMPTY = 0x010000
TFHD_DEFAULT_BASE_IS_MOOF = 0x020000

# §8.8.8.1 trun flags
TRUN_DATA_OFFSET = 0x000001
TRUN_FIRST_SAMPLE_FLAGS = 0x000004
TRUN_DURATION = 0x000100
TRUN_SIZE = 0x000200
TRUN_FLAGS = 0x000400
TRUN_COMPOSITION_OFFSET = 0x000800


def _need(b: Box, data: memoryview, n: int, what: str) -> None:
    if len(data) < n:
        raise BoxParseError(b.type, b.offset, f"{what} is truncated")


@dataclass(frozen=True)
class FileType:
    """ftyp (§4.3) or styp (§8.16.2): brands that say which specifications the file follows."""

    major_brand: str
    minor_version: int
    compatible_brands: tuple[str, ...]
    fourcc: str = "ftyp"

    @classmethod
    def parse(cls, b: Box) -> FileType:
        _need(b, b.payload, 8, "brand list")
        brands = bytes(b.payload).decode("latin-1")
        compatible = tuple(brands[i : i + 4] for i in range(8, len(brands) - 3, 4))
        minor = int.from_bytes(b.payload[4:8], "big")
        return cls(brands[:4], minor, compatible, b.type)

    def to_bytes(self) -> bytes:
        brands = "".join(self.compatible_brands).encode("latin-1")
        major = self.major_brand.encode("latin-1")
        return box(self.fourcc, major, self.minor_version.to_bytes(4, "big"), brands)


@dataclass(frozen=True)
class MovieFragmentHeader:
    """mfhd (§8.8.5): the fragment's sequence number, increasing from 1."""

    sequence_number: int

    @classmethod
    def parse(cls, b: Box) -> MovieFragmentHeader:
        _, _, rest = parse_full_header(b)
        _need(b, rest, 4, "sequence_number")
        return cls(int.from_bytes(rest[:4], "big"))

    def to_bytes(self) -> bytes:
        return full_box("mfhd", 0, 0, self.sequence_number.to_bytes(4, "big"))


@dataclass(frozen=True)
class TrackFragmentHeader:
    """tfhd (§8.8.7): which track a traf belongs to, and the defaults its samples take."""

    track_id: int
    flags: int = TFHD_DEFAULT_BASE_IS_MOOF
    base_data_offset: int | None = None
    sample_description_index: int | None = None
    default_sample_duration: int | None = None
    default_sample_size: int | None = None
    default_sample_flags: int | None = None

    _FIELDS = (
        (TFHD_BASE_DATA_OFFSET, "base_data_offset", ">Q"),
        (TFHD_SAMPLE_DESCRIPTION_INDEX, "sample_description_index", ">I"),
        (TFHD_DEFAULT_DURATION, "default_sample_duration", ">I"),
        (TFHD_DEFAULT_SIZE, "default_sample_size", ">I"),
        (TFHD_DEFAULT_FLAGS, "default_sample_flags", ">I"),
    )

    @classmethod
    def parse(cls, b: Box) -> TrackFragmentHeader:
        _, flags, rest = parse_full_header(b)
        _need(b, rest, 4, "track_ID")
        values: dict[str, int] = {"track_id": int.from_bytes(rest[:4], "big")}
        pos = 4
        for bit, name, fmt in cls._FIELDS:
            if flags & bit:
                size = struct.calcsize(fmt)
                _need(b, rest, pos + size, name)
                (values[name],) = struct.unpack_from(fmt, rest, pos)
                pos += size
        return cls(flags=flags, **values)

    def to_bytes(self) -> bytes:
        parts = [self.track_id.to_bytes(4, "big")]
        for bit, name, fmt in self._FIELDS:
            if self.flags & bit:
                value = getattr(self, name)
                if value is None:
                    raise ValueError(f"tfhd flag {bit:#x} is set but {name} is None")
                parts.append(struct.pack(fmt, value))
        return full_box("tfhd", 0, self.flags, *parts)


@dataclass(frozen=True)
class TrackFragmentDecodeTime:
    """tfdt (§8.8.12): decode time of the fragment's first sample, in the track's timescale."""

    base_media_decode_time: int

    @classmethod
    def parse(cls, b: Box) -> TrackFragmentDecodeTime:
        version, _, rest = parse_full_header(b)
        if version not in (0, 1):
            raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
        size = 8 if version == 1 else 4
        _need(b, rest, size, "baseMediaDecodeTime")
        return cls(int.from_bytes(rest[:size], "big"))

    def to_bytes(self) -> bytes:
        return full_box("tfdt", 1, 0, self.base_media_decode_time.to_bytes(8, "big"))


class RunSample(NamedTuple):
    """One sample's entry in a trun; ``None`` means the field is taken from the defaults.

    A named tuple rather than a dataclass: a fragment makes one per sample, and a tuple is
    several times quicker to make.
    """

    duration: int | None = None
    size: int | None = None
    flags: int | None = None
    composition_offset: int | None = None


@dataclass(frozen=True)
class TrackRun:
    """trun (§8.8.8): per-sample durations, sizes, flags and composition offsets."""

    samples: tuple[RunSample, ...]
    flags: int
    data_offset: int | None = None
    first_sample_flags: int | None = None
    version: int = 1

    _SAMPLE_FIELDS = (
        (TRUN_DURATION, "duration"),
        (TRUN_SIZE, "size"),
        (TRUN_FLAGS, "flags"),
        (TRUN_COMPOSITION_OFFSET, "composition_offset"),
    )

    @classmethod
    def parse(cls, b: Box) -> TrackRun:
        version, flags, rest = parse_full_header(b)
        if version not in (0, 1):
            raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
        _need(b, rest, 4, "sample_count")
        count = int.from_bytes(rest[:4], "big")
        pos = 4
        data_offset = first_flags = None
        if flags & TRUN_DATA_OFFSET:
            _need(b, rest, pos + 4, "data_offset")
            (data_offset,) = struct.unpack_from(">i", rest, pos)
            pos += 4
        if flags & TRUN_FIRST_SAMPLE_FLAGS:
            _need(b, rest, pos + 4, "first_sample_flags")
            (first_flags,) = struct.unpack_from(">I", rest, pos)
            pos += 4
        present = [name for bit, name in cls._SAMPLE_FIELDS if flags & bit]
        fmt = cls._entry_format(present, version)
        stride = 4 * len(present)
        _need(b, rest, pos + stride * count, f"{count} sample entries")
        rows = struct.iter_unpack(fmt, rest[pos : pos + stride * count]) if present else ((),) * count
        if len(present) == len(cls._SAMPLE_FIELDS):  # every field: the tuple's own order
            samples = tuple(RunSample._make(row) for row in rows)
        else:
            samples = tuple(RunSample(**dict(zip(present, row, strict=True))) for row in rows)
        return cls(samples, flags, data_offset, first_flags, version)

    def to_bytes(self) -> bytes:
        parts = [len(self.samples).to_bytes(4, "big")]
        if self.flags & TRUN_DATA_OFFSET:
            parts.append(struct.pack(">i", self.data_offset or 0))
        if self.flags & TRUN_FIRST_SAMPLE_FLAGS:
            parts.append(struct.pack(">I", self.first_sample_flags or 0))
        present = [name for bit, name in self._SAMPLE_FIELDS if self.flags & bit]
        if present:
            # Every entry in one pack call: a field given as None is written as 0.
            values = attrgetter(*present)
            flat = (
                [v or 0 for s in self.samples for v in values(s)]
                if len(present) > 1
                else [values(s) or 0 for s in self.samples]
            )
            fmt = self._entry_format(present, self.version)
            parts.append(struct.pack(">" + fmt[1:] * len(self.samples), *flat))
        return full_box("trun", self.version, self.flags, *parts)

    @staticmethod
    def _entry_format(present: list[str], version: int) -> str:
        # Composition offsets are signed in version 1, unsigned in version 0 (§8.8.8.2).
        signed = "i" if version == 1 else "I"
        return ">" + "".join(signed if n == "composition_offset" else "I" for n in present)
