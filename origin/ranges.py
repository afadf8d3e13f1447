"""Range requests (RFC 9110 §14): parsing is pure and raises, the caller maps to 206/416."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vodpipe.errors import VodpipeError

_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


class RangeNotSatisfiable(VodpipeError):
    """§15.5.17: no range overlaps the representation; answered with ``bytes */size``."""

    status = 416
    problem_type = "https://vodpipe.dev/problems/range-not-satisfiable"
    title = "Range not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range is outside the {size} bytes of this object")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, or None to serve the whole representation.

    A header that is not valid ``bytes=`` syntax is ignored (§14.2: a server MAY ignore it). Several
    ranges are coalesced when they touch or overlap; otherwise the whole object is sent, which
    §14.2 also allows. Raises :class:`RangeNotSatisfiable` when no range overlaps.
    """
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[ByteRange] = []
    for spec in specs.split(","):
        match = _SPEC.fullmatch(spec)
        if match is None:
            return None
        first, last = match.groups()
        if first == "" and last == "":
            return None
        if first == "":  # suffix range: the last N bytes (§14.1.2)
            length = int(last)
            if length == 0:
                continue
            ranges.append(ByteRange(max(0, size - length), size - 1))
            continue
        start = int(first)
        if last != "" and int(last) < start:
            return None  # §14.1.1: last-pos before first-pos is invalid; ignore the header
        if start >= size:
            continue  # §14.1.1: unsatisfiable unless another range overlaps
        end = size - 1 if last == "" else int(last)
        ranges.append(ByteRange(start, min(end, size - 1)))
    if not ranges:
        raise RangeNotSatisfiable(size)
    ranges.sort(key=lambda r: r.start)
    merged = ranges[0]
    for r in ranges[1:]:
        if r.start > merged.end + 1:
            return None  # disjoint ranges: serve the whole object
        merged = ByteRange(merged.start, max(merged.end, r.end))
    return merged
