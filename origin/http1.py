"""The plainest HTTP/1.1 requests, read and answered in bytes (pure; RFC 9112).

The origin's fast path (``origin.fast``) answers cached objects without aiohttp's per-request
machinery. It reads only requests it can judge completely: ``GET`` or ``HEAD`` of an origin-form
target, ``HTTP/1.1``, one ``Host``, no body, no range, no precondition, no upgrade; every line
well formed (RFC 9112 §2.2, §3, §5). Anything else is ``NOT_PLAIN`` and is left to aiohttp's
parser, which reads it again from its first byte and answers it (400 included) as it always has.
Being strict here loses nothing but speed: a request this module does not read is still served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from multidict import CIMultiDict

if TYPE_CHECKING:
    from collections.abc import Iterable

HEAD_MAX = 8190  # a head still incomplete past this is left to aiohttp (its line limit is 8190)

INCOMPLETE: Final = "incomplete"  # no end of the head yet: wait for more bytes
NOT_PLAIN: Final = "not plain"  # leave the connection to the general path

# RFC 9112 §3: request-line = method SP request-target SP HTTP-version; origin-form only (§3.2.1),
# visible ASCII, so a target that is anything but a path and a query never gets here.
_REQUEST_LINE = re.compile(rb"(GET|HEAD) (/[\x21-\x7e]*) HTTP/1\.1")
# RFC 9110 §5.1 field-name = token; §5.5 field-value: visible ASCII, SP, HTAB and obs-text, with
# optional whitespace around it. An obs-fold line (§5.2 of 9112) starts with whitespace and fails.
_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\x80-\xff\t]*?)[ \t]*")
# Fields that change what is sent (range, preconditions), announce a body, or ask for another
# protocol: a request with any of them is judged by the general path.
_NOT_PLAIN_FIELDS = frozenset(
    {
        b"range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"if-range",
        b"content-length",
        b"transfer-encoding",
        b"expect",
        b"upgrade",
    }
)


@dataclass(frozen=True, slots=True)
class PlainRequest:
    method: Literal["GET", "HEAD"]
    target: str  # the raw request-target: path and query, as sent
    accept_encoding: str | None  # every Accept-Encoding line, joined as one list (RFC 9110 §5.3)
    close: bool  # Connection: close (RFC 9112 §9.6): answer, then close
    size: int  # bytes of the head, its final empty line included
    head: bytes  # the request line and field lines, for ``fields`` when a log line needs them


def fields(head: bytes) -> CIMultiDict[str]:
    """The field lines of a plain request's head, by case-insensitive name, in order."""
    found: CIMultiDict[str] = CIMultiDict()
    for line in head.split(b"\r\n")[1:]:
        field = _FIELD.fullmatch(line)
        if field is not None:  # always, for a head read_request took
            found.add(field.group(1).decode("ascii"), field.group(2).decode("latin-1"))
    return found


def read_request(buffer: bytes) -> PlainRequest | Literal["incomplete", "not plain"]:
    """The request at the start of ``buffer``, if it is plain; what to do otherwise."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return INCOMPLETE if len(buffer) <= HEAD_MAX else NOT_PLAIN
    lines = buffer[:end].split(b"\r\n")
    request_line = _REQUEST_LINE.fullmatch(lines[0])
    if request_line is None:
        return NOT_PLAIN
    hosts = 0
    accept: list[bytes] = []
    close = False
    for line in lines[1:]:
        field = _FIELD.fullmatch(line)
        if field is None:
            return NOT_PLAIN
        name = field.group(1).lower()
        if name in _NOT_PLAIN_FIELDS:
            return NOT_PLAIN
        if name == b"host":
            hosts += 1
        elif name == b"accept-encoding":
            accept.append(field.group(2))
        elif name == b"connection":
            options = {option.strip().lower() for option in field.group(2).split(b",")}
            if b"upgrade" in options:
                return NOT_PLAIN
            close = close or b"close" in options
    if hosts != 1:  # RFC 9112 §3.2: exactly one Host, else 400 (the general path says so)
        return NOT_PLAIN
    method: Literal["GET", "HEAD"] = "GET" if request_line.group(1) == b"GET" else "HEAD"
    return PlainRequest(
        method,
        request_line.group(2).decode("ascii"),
        b", ".join(accept).decode("latin-1") if accept else None,
        close,
        end + 4,
        buffer[:end],
    )


def response_head(status: int, reason: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """A status line and fields, without the empty line that ends the head (RFC 9112 §4, §5)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in fields)
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")
