"""Samples out of a fragmented MP4: resolve trun/tfhd/trex defaults into explicit values.

``read_track`` streams top-level boxes from a binary file one fragment at a time, so a feature
length rendition never sits in memory whole; ``fragment_samples`` is the pure part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from packager.isobmff.box import iter_boxes
from packager.isobmff.fragment import (
    NON_SYNC_SAMPLE,
    TFHD_BASE_DATA_OFFSET,
    TrackFragmentDecodeTime,
    TrackFragmentHeader,
    TrackRun,
)
from packager.isobmff.movie import TrackHeader, parse_moov
from vodpipe.errors import BoxParseError, PackagingError

if TYPE_CHECKING:
    from collections.abc import Iterator


class Sample(NamedTuple):
    """One access unit with every field explicit, and its bytes (a tuple: one is made per
    sample read, and a tuple is several times quicker to make than a frozen dataclass)."""

    decode_time: int
    duration: int
    flags: int
    composition_offset: int
    data: bytes

    @property
    def is_sync(self) -> bool:
        return not self.flags & NON_SYNC_SAMPLE


def fragment_samples(
    fragment: bytes, header: TrackHeader, moof_file_offset: int = 0, *, data: bool = True
) -> list[Sample]:
    """The samples of one ``moof`` followed by its ``mdat``, laid out in ``fragment``.

    With ``data=False`` the fragment is the moof alone and the samples' bytes are left empty
    (their times and flags, for a caller that does not need the media).
    """
    boxes = list(iter_boxes(fragment))
    moof = next((b for b in boxes if b.type == "moof"), None)
    if moof is None:
        raise BoxParseError("moof", moof_file_offset, "fragment has no moof")
    samples: list[Sample] = []
    defaults = header.defaults
    for traf in (b for b in iter_boxes(moof.payload) if b.type == "traf"):
        parts = list(iter_boxes(traf.payload))
        tfhd_box = next((b for b in parts if b.type == "tfhd"), None)
        tfdt_box = next((b for b in parts if b.type == "tfdt"), None)
        if tfhd_box is None or tfdt_box is None:
            raise BoxParseError("traf", moof_file_offset + moof.offset, "lacks tfhd or tfdt")
        tfhd = TrackFragmentHeader.parse(tfhd_box)
        if tfhd.track_id != header.track_id:
            continue
        decode_time = TrackFragmentDecodeTime.parse(tfdt_box).base_media_decode_time
        # §8.8.7.1: the base is base_data_offset when given, otherwise the moof's first byte
        # (default-base-is-moof, which CMAF requires and FFmpeg writes).
        base = 0
        if tfhd.flags & TFHD_BASE_DATA_OFFSET and tfhd.base_data_offset is not None:
            base = tfhd.base_data_offset - moof_file_offset
        # A field missing from a trun entry comes from tfhd, else from trex (§8.8.3, §8.8.7).
        default_duration = _pick(tfhd.default_sample_duration, defaults.sample_duration)
        default_size = _pick(tfhd.default_sample_size, defaults.sample_size)
        default_flags = _pick(tfhd.default_sample_flags, defaults.sample_flags)
        limit = len(fragment)
        for trun_box in (b for b in parts if b.type == "trun"):
            run = TrackRun.parse(trun_box)
            pos = base + (run.data_offset or 0)
            for i, (duration, size, flags, composition_offset) in enumerate(run.samples):
                if duration is None:
                    duration = default_duration
                if size is None:
                    size = default_size
                if i == 0 and run.first_sample_flags is not None:
                    flags = run.first_sample_flags
                elif flags is None:
                    flags = default_flags
                if data and (pos < 0 or pos + size > limit):
                    raise BoxParseError(
                        "trun",
                        moof_file_offset + trun_box.offset,
                        f"sample {i} data lies outside the fragment",
                    )
                payload = fragment[pos : pos + size] if data else b""
                samples.append(Sample(decode_time, duration, flags, composition_offset or 0, payload))
                decode_time += duration
                pos += size
    return samples


def _pick(*values: int | None) -> int:
    return next((v for v in values if v is not None), 0)


def read_box(stream: BinaryIO) -> tuple[str, bytes] | None:
    header = stream.read(8)
    if not header:
        return None
    if len(header) < 8:
        raise BoxParseError("????", stream.tell() - len(header), "file ends inside a box header")
    size = int.from_bytes(header[:4], "big")
    fourcc = header[4:].decode("latin-1")
    if size == 1:
        large = stream.read(8)
        header += large
        size = int.from_bytes(large, "big")
    elif size == 0:
        rest = stream.read()
        return fourcc, header + rest
    body = stream.read(size - len(header))
    if len(body) != size - len(header):
        raise BoxParseError(fourcc, stream.tell() - len(body) - len(header), "file ends inside the box")
    return fourcc, header + body


def read_header(stream: BinaryIO) -> tuple[bytes, TrackHeader]:
    """Read top-level boxes up to and including the moov; return the moov bytes and its track."""
    while (item := read_box(stream)) is not None:
        fourcc, data = item
        if fourcc == "moov":
            moov = next(iter_boxes(data))
            return data, parse_moov(moov)
        if fourcc in ("moof", "mdat"):
            break
    raise PackagingError("rendition has no moov before its first fragment")


def iter_samples(stream: BinaryIO, header: TrackHeader, *, data: bool = True) -> Iterator[Sample]:
    """Every sample after the moov, in decode order, one fragment in memory at a time.

    With ``data=False`` the mdats are skipped, not read, and the samples' bytes are empty.
    """
    pending: bytes | None = None
    offset = stream.tell()
    moof_offset = offset
    while True:
        if not data:
            size = _skip_mdat(stream)
            if size:
                offset += size
                continue
        item = read_box(stream)
        if item is None:
            return
        fourcc, box_bytes = item
        if fourcc == "moof" and not data:
            yield from fragment_samples(box_bytes, header, offset, data=False)
        elif fourcc == "moof":
            pending, moof_offset = box_bytes, offset
        elif fourcc == "mdat" and pending is not None:
            yield from fragment_samples(pending + box_bytes, header, moof_offset)
            pending = None
        offset += len(box_bytes)


def _skip_mdat(stream: BinaryIO) -> int:
    """Seek past an mdat that starts here; its size, or 0 (and stay put) if none starts here."""
    start = stream.tell()
    header = stream.read(16)
    if len(header) < 8 or header[4:8] != b"mdat":
        stream.seek(start)
        return 0
    size = int.from_bytes(header[:4], "big")
    if size == 1 and len(header) == 16:
        size = int.from_bytes(header[8:16], "big")
    if size < 8:  # to the end of the file (size 0) or malformed: read_box reports it
        stream.seek(start)
        return 0
    stream.seek(start + size)
    return size
