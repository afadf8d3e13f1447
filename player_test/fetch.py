"""HTTP as a browser's player does it: an Origin header, byte ranges, a CORS preflight."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message

BROWSER_ORIGIN = "https://player.example"
PARALLEL = 6  # what a browser opens per host over HTTP/1.1


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Message
    body: bytes
    error: str = ""


class Fetcher:
    """GETs with the headers a web player sends; remembers bodies so each URL is fetched once."""

    def __init__(self, token: str | None = None, timeout: float = 30) -> None:
        self.token = token
        self.timeout = timeout
        self._cache: dict[str, Response] = {}
        self._lock = threading.Lock()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Origin": BROWSER_ORIGIN, "User-Agent": "vodpipe-check"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | (extra or {})

    def request(self, url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
        req = urllib.request.Request(url, method=method, headers=self._headers(headers))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Response(url, r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(url, e.code, e.headers, e.read(), f"HTTP {e.code}")
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            return Response(url, 0, Message(), b"", f"cannot connect: {reason}")

    def get(self, url: str) -> Response:
        with self._lock:
            cached = self._cache.get(url)
        if cached is None:
            cached = self.request(url)
            with self._lock:
                self._cache[url] = cached
        return cached

    def prefetch(self, urls: list[str]) -> None:
        """Fetch many URLs at once, as a player's parallel connections would; results are cached."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(self.get, urls))
