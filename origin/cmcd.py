"""Common Media Client Data (CTA-5004): the QoE fields players send with each request.

A player sends one payload in the ``CMCD`` query argument, or shards it over four headers
(``CMCD-Request``, ``CMCD-Object``, ``CMCD-Status``, ``CMCD-Session``; CTA-5004 §2). A payload is
comma-separated ``key=value`` pairs (§3.2): a String value is in double quotes with ``"`` and
``\\`` escaped by a backslash, a Token is bare, an Integer is decimal digits, a Decimal has one
point, and a Boolean true is the bare key (a false boolean is not sent). Keys are case-sensitive;
custom keys carry a hyphenated prefix. This module parses that grammar and checks the reserved
keys' types (§3.3, Table 1); it never touches a request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vodpipe.errors import RequestError

if TYPE_CHECKING:
    from collections.abc import Mapping

Value = str | int | float | bool
HEADERS = ("CMCD-Request", "CMCD-Object", "CMCD-Status", "CMCD-Session")
STRING_MAX = 64  # §3.3: cid and sid are at most 64 characters

# RFC 8941 §3.1.2's key, but case-sensitive (CTA-5004 §3.2 rule 6): custom keys may have capitals.
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.*-]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")  # RFC 8941 §3.3.1
_DECIMAL = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,3}")  # RFC 8941 §3.3.2
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")  # RFC 8941 §3.3.4

# CTA-5004 §3.3, Table 1: the reserved keys and their value types.
INTEGER_KEYS = frozenset({"br", "bl", "d", "dl", "mtp", "rtp", "tb", "v"})
STRING_KEYS = frozenset({"cid", "nor", "nrr", "sid"})
TOKEN_KEYS = {
    "ot": frozenset({"m", "a", "v", "av", "i", "c", "tt", "k", "o"}),  # object type
    "sf": frozenset({"d", "h", "s", "o"}),  # streaming format: DASH, HLS, Smooth, other
    "st": frozenset({"v", "l"}),  # stream type: VOD, live
}
BOOLEAN_KEYS = frozenset({"bs", "su"})
DECIMAL_KEYS = frozenset({"pr"})


class CmcdError(RequestError):
    """A CMCD payload that does not follow CTA-5004; logged as invalid, never fatal to a request."""


class Token(str):
    """A bare Token value (``ot=v``), kept apart from a quoted String with the same text."""

    __slots__ = ()


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted String that opens at ``text[start]``; its value and the index after it."""
    out = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                raise CmcdError("a backslash in a string must escape a quote or a backslash")
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        elif not " " <= char <= "~":
            raise CmcdError("a string holds printable ASCII only")
        else:
            out.append(char)
            i += 1
    raise CmcdError("a string is not closed by a double quote")


def _bare(raw: str) -> Value:
    if raw.isascii() and raw.isdigit() and len(raw) <= 15:  # the common case, without a regex
        return int(raw)
    if _INTEGER.fullmatch(raw):
        return int(raw)
    if _DECIMAL.fullmatch(raw):
        return float(raw)
    if _TOKEN.fullmatch(raw):
        return Token(raw)
    raise CmcdError(f"{raw!r} is not an integer, decimal, token or quoted string")


# One well-formed pair: a key, then a quoted string (printable ASCII, escapes of " and \ only)
# or a bare value, then a comma that is not the last character, or the end.
_PAIR = re.compile(
    r'([A-Za-z][A-Za-z0-9_.*-]*)(?:=(?:"((?:[ !#-\[\]-~]|\\["\\])*)"|([^,"]*)))?'  # key, value
    r"(?:,(?!\Z)|\Z)"  # the separator
)
_ESCAPE = re.compile(r"\\(.)")


def parse_payload(text: str) -> dict[str, Value]:
    """The key/value pairs of one CMCD payload (already percent-decoded), in the order sent."""
    pairs: dict[str, Value] = {}
    i = 0
    # Fast path: one regular-expression match per pair. Anything it cannot match is parsed again
    # by the scanner below, which says precisely what is wrong.
    while i < len(text) and (match := _PAIR.match(text, i)) is not None:
        key, quoted, bare = match.groups()
        value: Value = True
        if quoted is not None:
            value = _ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
        elif bare is not None:
            value = _bare(bare)
        if key in pairs:
            raise CmcdError(f"key {key!r} appears twice")
        pairs[key] = _checked(key, value)
        i = match.end()
    return pairs if i == len(text) else _scan(text)


def _scan(text: str) -> dict[str, Value]:
    """The character-by-character parse, for payloads the fast path refused: raises why."""
    pairs: dict[str, Value] = {}
    i = 0
    while i < len(text):
        key_match = _KEY.match(text, i)
        if key_match is None:
            raise CmcdError(f"a key is expected at offset {i}")
        key = key_match.group()
        i = key_match.end()
        value: Value = True  # a bare key is a true boolean (§3.2 rule 2)
        if i < len(text) and text[i] == "=":
            if text.startswith('"', i + 1):
                value, i = _string(text, i + 1)
            else:
                end = text.find(",", i + 1)
                end = len(text) if end < 0 else end
                value = _bare(text[i + 1 : end])
                i = end
        if key in pairs:
            raise CmcdError(f"key {key!r} appears twice")
        pairs[key] = _checked(key, value)
        if i < len(text):
            if text[i] != ",":
                raise CmcdError(f"a comma is expected after {key!r}")
            i += 1
            if i == len(text):
                raise CmcdError("the payload ends with a comma")
    return pairs


def _checked(key: str, value: Value) -> Value:
    """The value of a reserved key when it has the type Table 1 gives it; custom keys pass."""
    if key in INTEGER_KEYS:
        ok = type(value) is int and value >= 0
    elif key in STRING_KEYS:
        ok = type(value) is str and (key not in ("cid", "sid") or len(value) <= STRING_MAX)
    elif key in TOKEN_KEYS:
        ok = isinstance(value, Token) and value in TOKEN_KEYS[key]
    elif key in BOOLEAN_KEYS:
        ok = value is True
    elif key in DECIMAL_KEYS:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    else:
        ok = "-" in key  # §3.2 rule 4: a custom key carries a hyphenated prefix
    if not ok:
        raise CmcdError(f"{key}={value!r} is not a valid value for {key!r}")
    return str(value) if isinstance(value, Token) else value


def from_request(query: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Value] | None:
    """The CMCD a request carries, from its query argument and its four headers; None if none.

    ``query`` is the decoded query (a ``CMCD`` argument decoded once, as §2.2 sends it
    URL-encoded); a key sent both ways is an error, as is any malformed payload.
    """
    payloads = [query["CMCD"]] if "CMCD" in query else []
    payloads += [headers[name] for name in HEADERS if name in headers]
    if not payloads:
        return None
    merged: dict[str, Value] = {}
    for payload in payloads:
        for key, value in parse_payload(payload.strip()).items():
            if key in merged:
                raise CmcdError(f"key {key!r} is sent twice")
            merged[key] = value
    return merged
