"""Range requests (RFC 9110 §14): parsing is pure and raises, the caller maps to 206/416."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vodpipe.errors import VodpipeError

# §14.1.1: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length; DIGIT is
# ASCII only (Python's \d would take any script's digits), OWS only around list elements
_SPEC = re.compile(r"[ \t]*([0-9]*)-([0-9]*)[ \t]*")
_DIGITS_MAX = 18  # past an exabyte: no object is that large, and int() refuses 4300+ digits


class _Absurd(ValueError):
    """A position no object reaches; the whole Range field is then ignored (§14.2: MAY ignore)."""


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    if len(digits) > _DIGITS_MAX:
        raise _Absurd(digits)
    return int(digits)


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

    A zero-length object has no byte to name, so no 206 can describe it (``bytes 0--1/0`` is not a
    Content-Range). §14.1.1 still counts a non-zero suffix-range as satisfiable there, so a 416
    would be wrong: the whole (empty) representation is sent as a 200, which §14.2 allows. An
    int-range on it is unsatisfiable (its first-pos is not below the length 0): 416.
    """
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip(" \t").lower() != "bytes":  # §14.1: range units are case-insensitive
        return None
    try:
        return _parse_specs(specs, size)
    except _Absurd:
        return None


def _parse_specs(specs: str, size: int) -> ByteRange | None:
    ranges: list[ByteRange] = []
    elements = [spec for spec in specs.split(",") if spec.strip(" \t")]  # §5.6.1: empty ones skipped
    if not elements:
        return None  # range-set = 1#range-spec: nothing requested is not a valid field
    for spec in elements:
        match = _SPEC.fullmatch(spec)
        if match is None:
            return None
        first, last = match.groups()
        if first == "" and last == "":
            return None
        if first == "":  # suffix range: the last N bytes (§14.1.2)
            length = _position(last)
            if length == 0:
                continue
            if size == 0:
                return None  # satisfiable but not expressible as a 206: send the empty whole
            ranges.append(ByteRange(max(0, size - length), size - 1))
            continue
        start = _position(first)
        if last != "" and _position(last) < start:
            return None  # §14.1.1: last-pos before first-pos is invalid; ignore the header
        if start >= size:
            continue  # §14.1.1: unsatisfiable unless another range overlaps
        end = size - 1 if last == "" else _position(last)
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
