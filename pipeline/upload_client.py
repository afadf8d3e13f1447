"""``vodpipe upload``: a small tus 1.0.0 client (urllib) that resumes after an interruption.

It remembers each unfinished upload's URL in a state file, keyed by the file's absolute path,
size and modification time and by the API: run the same command again and it asks the server
(HEAD) for the offset and carries on from there. Every PATCH carries ``Upload-Checksum: sha256``;
a chunk the server discards (460) is sent again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.tus import TUS_VERSION, encode_metadata
from vodpipe.errors import RequestError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from http.client import HTTPResponse
    from pathlib import Path

CHUNK_SIZE = 8 << 20  # bytes per PATCH: what a dropped connection can cost at most
PIECE = 256 << 10  # how often, in bytes, the progress bar moves
RETRIES = 5


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> str:
        try:
            detail = json.loads(self.body).get("detail")
        except ValueError:
            detail = None
        return str(detail or self.body[:200].decode(errors="replace") or f"HTTP {self.status}")


class UploadState:
    """Upload URLs of unfinished uploads, in a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def fingerprint(file: Path, api: str) -> str:
        st = file.stat()
        return f"{api}|{file.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def put(self, key: str, url: str | None) -> None:
        data = self._load()
        if url is None:
            data.pop(key, None)
        else:
            data[key] = url
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(data, indent=2))
        os.replace(temp, self.path)  # atomic: a kill mid-write leaves the old state


class TusClient:
    def __init__(self, api: str, key: str | None, timeout: float = 600) -> None:
        self.api = api.rstrip("/")
        self.key = key
        self.timeout = timeout

    def request(
        self, method: str, url: str, headers: dict[str, str], body: Iterator[bytes] | None = None
    ) -> Reply:
        headers = {"Tus-Resumable": TUS_VERSION, **headers}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            response: HTTPResponse
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers.items()), error.read())

    def create(self, length: int, metadata: dict[str, str]) -> tuple[str, str]:
        reply = self.request(
            "POST",
            f"{self.api}/v1/uploads",
            {"Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata)},
        )
        if reply.status != 201:
            raise VodpipeError(f"the API refused the upload ({reply.status}): {reply.problem()}")
        return urllib.parse.urljoin(self.api + "/", reply.headers["Location"]), reply.headers.get(
            "Vodpipe-Title", ""
        )

    def offset(self, url: str) -> tuple[int, str] | None:
        """The server's offset and title, or None when the upload is gone (finished or expired)."""
        reply = self.request("HEAD", url, {})
        if reply.status in (403, 404, 410):
            return None
        if reply.status != 200:
            raise VodpipeError(f"the API cannot say where to resume ({reply.status})")
        return int(reply.headers["Upload-Offset"]), reply.headers.get("Vodpipe-Title", "")

    def patch(self, url: str, offset: int, data: bytes, on_piece: Callable[[int], None]) -> Reply:
        digest = hashlib.sha256(data).digest()

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(data), PIECE):
                piece = data[start : start + PIECE]
                yield piece
                on_piece(len(piece))

        headers = {
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(data)),
            "Upload-Offset": str(offset),
            "Upload-Checksum": f"sha256 {base64.b64encode(digest).decode()}",
        }
        return self.request("PATCH", url, headers, pieces())


def upload(
    client: TusClient,
    file: Path,
    title: str | None,
    state: UploadState,
    on_progress: Callable[[int, int, bool], None],
    chunk_size: int = CHUNK_SIZE,
    say: Callable[[str], None] = print,
    options: dict[str, str] | None = None,
) -> str:
    """Upload ``file`` (or finish an earlier upload of it); returns the title id. ``options``:
    the title's, as ``Upload-Metadata`` (``TitleOptions.to_metadata``), sent when it is created.

    ``on_progress(done, total, resumed)`` runs as bytes go out; raising from it (Ctrl-C) leaves
    the upload resumable.
    """
    if not file.is_file():
        raise RequestError(f"no such file: {file}")
    length = file.stat().st_size
    key = state.fingerprint(file, client.api)
    url = state.get(key)
    known = client.offset(url) if url else None
    if url and known:
        offset, name = known
        say(f"upload: resuming {file.name} at byte {offset} of {length}")
    else:
        metadata = {"filename": file.name} | ({"title": title} if title else {}) | (options or {})
        url, name = client.create(length, metadata)
        offset = 0
        state.put(key, url)
    resumed_from = offset
    on_progress(offset, length, resumed_from > 0)
    failures = 0
    with file.open("rb") as source:
        while offset < length or length == 0:
            source.seek(offset)
            data = source.read(chunk_size)
            sent = 0

            def moved(n: int, base: int = offset) -> None:
                nonlocal sent
                sent += n
                on_progress(base + sent, length, resumed_from > 0)

            try:
                reply = client.patch(url, offset, data, moved)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                failures += 1
                if failures > RETRIES:
                    raise VodpipeError(
                        f"the API is unreachable ({exc}); run the command again to resume"
                    ) from None
                time.sleep(min(2**failures, 30))
                again = client.offset(url)
                if again is None:
                    raise VodpipeError("the upload vanished on the server; run the command again") from None
                offset = again[0]
                continue
            if reply.status == 204:
                offset = int(reply.headers["Upload-Offset"])
                failures = 0
                if length == 0:
                    break
                continue
            if reply.status in (409, 460) and failures < RETRIES:
                failures += 1  # 409: another offset (HEAD tells); 460: the chunk was damaged
                again = client.offset(url)
                offset = again[0] if again else offset
                continue
            if reply.status == 422:
                state.put(key, None)  # the server removed the upload with the bad master
            raise VodpipeError(reply.problem())
    state.put(key, None)
    on_progress(length, length, resumed_from > 0)
    return name
