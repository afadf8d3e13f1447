"""The request fields the origin reads, each as one value (RFC 9110 §5.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from multidict import CIMultiDict

if TYPE_CHECKING:
    from multidict import MultiMapping

# Every request field a decision reads. Origin is not among them: CORS answers ``*`` to all.
READ = (
    "Accept-Encoding",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Range",
)


def request_fields(headers: MultiMapping[str]) -> CIMultiDict[str]:
    """Each field the origin reads, its lines joined in order with ``, `` (§5.3).

    For list fields (If-Match, If-None-Match, Accept-Encoding) this is their meaning. A singleton
    field sent twice (a date, If-Range, Range) becomes a value that does not parse, which each
    parser treats as invalid and ignores (§5.5: a recipient MAY treat it as an error).
    """
    joined: CIMultiDict[str] = CIMultiDict()
    for name in READ:
        lines = headers.getall(name, [])
        if lines:
            joined[name] = ", ".join(lines)
    return joined
