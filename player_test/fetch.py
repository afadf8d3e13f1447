"""HTTP as a browser's player does it: an Origin header, byte ranges, a CORS preflight."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message

BROWSER_ORIGIN = "https://player.example"
PARALLEL = 6  # what a browser opens per host over HTTP/1.1
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class MediaRef:
    """A piece of media a manifest names: a URL, or an inclusive byte range of it.

    HLS EXT-X-BYTERANGE and EXT-X-MAP BYTERANGE, DASH SegmentBase/sidx and SegmentList
    @mediaRange all name ranges of one file; everything that fetches media takes one of these.
    """

    url: str
    first: int | None = None  # first byte, inclusive
    last: int | None = None  # last byte, inclusive

    @property
    def ranged(self) -> bool:
        return self.first is not None

    @property
    def length(self) -> int | None:
        return None if self.first is None or self.last is None else self.last - self.first + 1

    def __str__(self) -> str:
        return f"{self.url} [bytes {self.first}-{self.last}]" if self.ranged else self.url


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Message
    body: bytes
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status not in (200, 206) or bool(self.error)


class Fetcher:
    """GETs with the headers a web player sends; remembers bodies so each piece is fetched once."""

    def __init__(self, token: str | None = None, timeout: float = 30) -> None:
        self.token = token
        self.timeout = timeout
        self._cache: dict[MediaRef, Response] = {}
        self._lock = threading.Lock()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Origin": BROWSER_ORIGIN, "User-Agent": "vodpipe-check"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | (extra or {})

    def request(
        self, url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        req = urllib.request.Request(url, data=body, method=method, headers=self._headers(headers))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Response(url, r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(url, e.code, e.headers, e.read(), f"HTTP {e.code}")
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            return Response(url, 0, Message(), b"", f"cannot connect: {reason}")

    def _fetch(self, ref: MediaRef) -> Response:
        if not ref.ranged:
            return self.request(ref.url)
        last = "" if ref.last is None else str(ref.last)
        response = self.request(ref.url, headers={"Range": f"bytes={ref.first}-{last}"})
        if response.error:
            return response
        # RFC 9110 §14.4/§15.3.7: a ranged answer is 206 with the Content-Range asked for.
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        problem = ""
        if response.status != 206 or match is None:
            problem = f"asked for bytes {ref.first}-{last}, got {response.status} without Content-Range"
        elif int(match.group(1)) != ref.first or (ref.last is not None and int(match.group(2)) != ref.last):
            problem = f"asked for bytes {ref.first}-{last}, got Content-Range {match.group(0)!r}"
        elif len(response.body) != int(match.group(2)) - int(match.group(1)) + 1:
            problem = f"Content-Range {match.group(0)!r} but {len(response.body)} bytes"
        return Response(ref.url, response.status, response.headers, response.body, problem)

    def get(self, ref: MediaRef | str) -> Response:
        key = ref if isinstance(ref, MediaRef) else MediaRef(ref)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = self._fetch(key)
            with self._lock:
                self._cache[key] = cached
        return cached

    def prefetch(self, refs: list[MediaRef]) -> None:
        """Fetch many pieces at once, as a player's parallel connections would; results are cached."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(self.get, refs))
