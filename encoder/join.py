"""Joining the chunks of one rung into one fragmented MP4, losslessly.

Each chunk is a fragmented MP4 (ISO/IEC 14496-12 §8.8) that FFmpeg wrote with an empty moov and
moof-relative data offsets. Joining keeps the first chunk's ftyp and moov, then copies every
chunk's moof/mdat pairs unchanged except for two fields patched in place (same size, so no
offset moves): the mfhd sequence number, renumbered from 1 (§8.8.5), and the tfdt decode time
(§8.8.12), rebased so that each chunk starts where the one before ends. No sample is re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from packager.isobmff.box import iter_boxes
from packager.samples import fragment_samples, read_box, read_header
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from packager.isobmff.movie import TrackHeader


@dataclass(frozen=True)
class JoinResult:
    frames: int  # samples written
    keyframes: tuple[int, ...]  # decode times of the sync samples, in the track's timescale
    duration: int  # in the track's timescale
    timescale: int


def _patch_full_box_int(buf: bytearray, payload_start: int, value: int, version: int) -> None:
    """Overwrite the integer after a FullBox header: 4 bytes, or 8 in version 1."""
    size = 8 if version == 1 else 4
    if value < 0 or value >= 1 << (8 * size):
        raise PackagingError(f"rebased value {value} does not fit a version {version} box")
    start = payload_start + 4  # version (1 byte) and flags (3 bytes)
    buf[start : start + size] = value.to_bytes(size, "big")


def _rebase_moof(moof: bytes, sequence: int, shift: int) -> bytes:
    """The moof with its mfhd sequence number set and every tfdt moved by ``shift`` ticks."""
    buf = bytearray(moof)
    outer = next(iter_boxes(moof))
    header = len(moof) - len(outer.payload)
    for b in iter_boxes(moof, header):
        start = b.offset + (b.size - len(b.payload))
        if b.type == "mfhd":
            _patch_full_box_int(buf, start, sequence, 0)
        elif b.type == "traf":
            for t in iter_boxes(moof, start, b.offset + b.size):
                if t.type != "tfdt":
                    continue
                version = t.payload[0]
                width = 8 if version == 1 else 4
                old = int.from_bytes(t.payload[4 : 4 + width], "big")
                _patch_full_box_int(buf, t.offset + (t.size - len(t.payload)), old + shift, version)
    return bytes(buf)


def _same_track(first: TrackHeader, other: TrackHeader, name: str) -> None:
    if (other.timescale, other.entry, other.handler) != (first.timescale, first.entry, first.handler):
        raise PackagingError(
            f"{name}: codec configuration or timescale differs from the first chunk; "
            "chunks of one rung must be encoded with the same settings"
        )


def join_chunks(parts: Sequence[Path], out: Path) -> JoinResult:
    """Write ``parts`` (in order) as one fragmented MP4 at ``out``."""
    if not parts:
        raise PackagingError("no chunk to join")
    first: TrackHeader | None = None
    sequence = 0
    end = 0  # decode time where the next chunk starts
    frames = 0
    keyframes: list[int] = []
    with out.open("wb") as dst:
        for part in parts:
            with part.open("rb") as src:
                _, header = read_header(src)
                if first is None:
                    first = header
                    src.seek(0)
                    _copy_prelude(src, dst)
                else:
                    _same_track(first, header, part.name)
                shift: int | None = None
                chunk_end = end
                pending: bytes | None = None
                while (item := read_box(src)) is not None:
                    fourcc, data = item
                    if fourcc == "moof":
                        pending = data
                        continue
                    if fourcc != "mdat" or pending is None:
                        continue  # mfra, free, sidx: offsets into this chunk alone, dropped
                    samples = fragment_samples(pending + data, header)
                    if not samples:
                        pending = None
                        continue
                    if shift is None:
                        shift = end - samples[0].decode_time
                    sequence += 1
                    dst.write(_rebase_moof(pending, sequence, shift))
                    dst.write(data)
                    pending = None
                    frames += len(samples)
                    keyframes += [s.decode_time + shift for s in samples if s.is_sync]
                    last = samples[-1]
                    chunk_end = last.decode_time + last.duration + shift
                if shift is None:
                    raise PackagingError(f"{part.name}: chunk has no samples")
                end = chunk_end
    assert first is not None
    return JoinResult(frames, tuple(keyframes), end, first.timescale)


def _copy_prelude(src: BinaryIO, dst: BinaryIO) -> None:
    """The boxes up to the moov (ftyp, moov) of the first chunk, as they are."""
    while (item := read_box(src)) is not None:
        fourcc, data = item
        dst.write(data)
        if fourcc == "moov":
            return
