"""Signed URLs: an HMAC-SHA256 over a path prefix and an expiry, carried in the query.

The scheme is CloudFront's signed URL with a custom policy (a resource prefix and
``DateLessThan``), or nginx's ``secure_link`` with a prefix: whoever holds a URL signed for
``/media/demo/`` until ``exp`` may fetch anything under that prefix until then, so one signature
covers a title's manifests and every segment they name. The query is

    ?exp=1767225600&prefix=/media/demo/&sig=<base64url HMAC-SHA256, no padding>

``exp`` is a Unix time in seconds (valid while ``now < exp``); the MAC input is a version tag,
``exp`` and ``prefix`` on their own lines, so no two (prefix, exp) pairs share an input. A prefix
ends with ``/`` and names at least a title (``/media/{title}/``), so ``/media/demo`` can never
cover ``/media/demo2/``. Everything here is pure: the key and the clock come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vodpipe.errors import ConfigError, SignedUrlError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

FIELDS = ("exp", "prefix", "sig")
MAX_TTL = 366 * 24 * 3600  # `vodpipe sign --ttl`: a year at most; a longer grant is a key, not a URL
_VERSION = b"vodpipe-signed-url-v1"
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*"  # one path segment, as origin.paths allows
_PREFIX = re.compile(rf"/media/(?:{_NAME}/)+")
_EXP = re.compile(r"[0-9]{1,12}")  # no sign, no spaces, no exponent: one spelling per time
_SIG = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes in base64url without padding (RFC 4648 §5)
_PLAY = re.compile(r"/play/([a-z0-9][a-z0-9_-]{0,63})")


@dataclass(frozen=True)
class Grant:
    """What a valid signature allows: any path under ``prefix`` until ``expires``."""

    prefix: str
    expires: int
    signature: str  # base64url, as carried in the query

    @property
    def query(self) -> str:
        """The query that carries this grant; ``/`` left as is (RFC 3986 §3.4 allows it)."""
        return urlencode({"exp": self.expires, "prefix": self.prefix, "sig": self.signature}, safe="/")

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefix)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(key: bytes, prefix: str, expires: int) -> bytes:
    message = b"\n".join((_VERSION, str(expires).encode(), prefix.encode()))
    return hmac.new(key, message, hashlib.sha256).digest()


def check_prefix(prefix: str) -> str:
    if not _PREFIX.fullmatch(prefix):
        raise ConfigError(f"a signed prefix is /media/TITLE/ or a folder below it, not {prefix!r}")
    return prefix


def sign(key: bytes, prefix: str, expires: int) -> Grant:
    """The grant of ``prefix`` until ``expires`` (Unix seconds) under ``key``."""
    return Grant(check_prefix(prefix), expires, _b64url(_mac(key, prefix, expires)))


def title_prefix(path: str) -> str:
    """The prefix a URL is signed for by default: its whole title, ``/media/{title}/``.

    ``/play/{title}`` (the player page) is signed for the same title's media.
    """
    if match := _PLAY.fullmatch(path):
        return f"/media/{match.group(1)}/"
    parts = path.split("/")
    if len(parts) < 4 or parts[1] != "media" or not re.fullmatch(_NAME, parts[2]) or not parts[3]:
        raise ConfigError(f"only URLs under /media/TITLE/ (or a /play/TITLE page) are signed, not {path!r}")
    return f"/media/{parts[2]}/"


def sign_url(key: bytes, url: str, ttl: int, now: float, prefix: str | None = None) -> str:
    """``url`` with a signed query valid ``ttl`` seconds from ``now`` (its other parameters kept).

    The prefix is the URL's title unless one is given; it must cover the URL's path.
    """
    if not 0 < ttl <= MAX_TTL:
        raise ConfigError(f"--ttl must be 1 to {MAX_TTL} seconds, not {ttl}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    title = title_prefix(parts.path)
    chosen = check_prefix(prefix) if prefix is not None else title
    # A page's media are its title's: a prefix inside the title (a version, a rendition) will do.
    covered = chosen.startswith(title) if _PLAY.fullmatch(parts.path) else parts.path.startswith(chosen)
    if not covered:
        raise ConfigError(f"the prefix {chosen} does not cover {parts.path}")
    grant = sign(key, chosen, int(now) + ttl)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in FIELDS]
    query = "&".join(q for q in (urlencode(kept), grant.query) if q)
    return urlunsplit(parts._replace(query=query))


def _one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name, ())
    if len(values) > 1:  # an edge and the origin might read different copies: refuse both
        raise SignedUrlError(f"malformed signed URL: {name!r} is given {len(values)} times")
    return values[0] if values else None


def parse_grant(query: Mapping[str, Sequence[str]]) -> tuple[Grant, bytes]:
    """The grant a query claims (not yet verified) and its signature's bytes.

    ``query`` maps each name to all its values, as ``parse_qs`` or a MultiDict's ``getall`` give.
    """
    exp, prefix, sig = (_one(query, name) for name in FIELDS)
    if exp is None and prefix is None and sig is None:
        raise SignedUrlError("missing signature: this title is served only to signed URLs (exp, prefix, sig)")
    if exp is None or prefix is None or sig is None:
        absent = [name for name, value in zip(FIELDS, (exp, prefix, sig), strict=True) if value is None]
        raise SignedUrlError(f"incomplete signed URL: {', '.join(absent)} missing")
    if not _EXP.fullmatch(exp):
        raise SignedUrlError("malformed signed URL: exp is not a Unix time in seconds")
    if not _PREFIX.fullmatch(prefix):
        raise SignedUrlError("malformed signed URL: prefix is not a /media/ folder ending in /")
    if not _SIG.fullmatch(sig):
        raise SignedUrlError("malformed signed URL: sig is not 32 bytes of base64url")
    try:
        raw = base64.urlsafe_b64decode(sig + "=")
    except (binascii.Error, ValueError):
        raw = b""
    if _b64url(raw) != sig:  # RFC 4648 §3.5: one spelling only, so a signature is one string
        raise SignedUrlError("malformed signed URL: sig is not canonical base64url")
    return Grant(prefix, int(exp), sig), raw


def verify(key: bytes, path: str, query: Mapping[str, Sequence[str]], now: float) -> Grant:
    """The grant that lets ``path`` be served, or ``SignedUrlError`` saying why not.

    ``path`` is the raw request path, already checked to be a plain ``media/`` key. The MAC is
    compared in constant time (``hmac.compare_digest``) and before the expiry, so a forged URL
    is called forged whatever time it names.
    """
    grant, signature = parse_grant(query)
    if not grant.covers(path):
        raise SignedUrlError(f"wrong prefix: the signature is for {grant.prefix}, not this path")
    if not hmac.compare_digest(_mac(key, grant.prefix, grant.expires), signature):
        raise SignedUrlError("forged signature: not signed with this origin's key, or altered since")
    if now >= grant.expires:
        when = datetime.fromtimestamp(grant.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise SignedUrlError(f"expired: the signed URL was valid until {when}")
    return grant
