"""Edit lists (ISO/IEC 14496-12 §8.6.5, §8.6.6) and the rewrite of a moov's trak around them.

An edit list maps a track's media timeline onto the presentation. CMAF (ISO/IEC 23000-19
§7.5.13) allows one in a CMAF header for one purpose we need: an audio track whose first
samples are encoder priming, skipped by a single edit whose ``media_time`` is the priming
length, with ``segment_duration`` 0 (the edit runs to the end of a fragmented track).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from packager.isobmff.box import Box, box, full_box, iter_boxes, parse_full_header
from vodpipe.errors import BoxParseError

EMPTY_EDIT = -1  # §8.6.6.3: media_time -1 is an empty edit (nothing presented for its duration)


@dataclass(frozen=True)
class Edit:
    """One elst entry: ``segment_duration`` in the movie timescale, ``media_time`` in the media's."""

    segment_duration: int
    media_time: int
    media_rate: int = 1  # media_rate_integer; the fraction is always 0 (§8.6.6.3)


@dataclass(frozen=True)
class EditList:
    """elst (§8.6.6): version 1 when a value needs 64 bits, else version 0."""

    edits: tuple[Edit, ...]

    @classmethod
    def parse(cls, b: Box) -> EditList:
        version, _, rest = parse_full_header(b)
        if version not in (0, 1):
            raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
        if len(rest) < 4:
            raise BoxParseError(b.type, b.offset, "entry_count is truncated")
        count = int.from_bytes(rest[:4], "big")
        entry = struct.Struct(">Qqhh" if version == 1 else ">Iihh")
        if len(rest) < 4 + count * entry.size:
            raise BoxParseError(b.type, b.offset, f"{count} entries are truncated")
        edits = []
        for i in range(count):
            duration, media_time, rate, _fraction = entry.unpack_from(rest, 4 + i * entry.size)
            edits.append(Edit(duration, media_time, rate))
        return cls(tuple(edits))

    def to_bytes(self) -> bytes:
        wide = any(
            e.segment_duration > 0xFFFFFFFF or not -(2**31) <= e.media_time < 2**31 for e in self.edits
        )
        entry = struct.Struct(">Qqhh" if wide else ">Iihh")
        body = [len(self.edits).to_bytes(4, "big")]
        body += [entry.pack(e.segment_duration, e.media_time, e.media_rate, 0) for e in self.edits]
        return full_box("elst", 1 if wide else 0, 0, *body)


def skip_edit(media_time: int) -> EditList:
    """The single edit that starts the presentation ``media_time`` ticks into the media."""
    return EditList((Edit(0, media_time),))


def _rebuild(container: Box, replace: dict[str, bytes | None], after: str) -> bytes:
    """``container`` with the children named in ``replace`` swapped (None drops them).

    A replacement for a type the container lacks is inserted right after its ``after`` child.
    """
    parts: list[bytes] = []
    pending = {k: v for k, v in replace.items() if v is not None}
    for b in iter_boxes(container.payload):
        if b.type in replace:
            new = pending.pop(b.type, None)
            if new is not None:
                parts.append(new)
            continue
        parts.append(bytes(container.payload[b.offset : b.offset + b.size]))
        if b.type == after:
            parts += pending.values()
            pending.clear()
    parts += pending.values()
    return box(container.type, *parts)


def with_edit_list(moov: bytes, edit_list: EditList | None) -> bytes:
    """The moov (a whole box) with its single trak's edts set to ``edit_list``, or removed.

    §8.6.5: the edts follows the tkhd. Nothing else in an empty CMAF moov holds an offset, so
    resizing it is safe.
    """
    (moov_box,) = iter_boxes(moov)
    edts = box("edts", edit_list.to_bytes()) if edit_list is not None else None
    parts: list[bytes] = []
    for b in iter_boxes(moov_box.payload):
        raw = bytes(moov_box.payload[b.offset : b.offset + b.size])
        parts.append(_rebuild(b, {"edts": edts}, after="tkhd") if b.type == "trak" else raw)
    return box("moov", *parts)
