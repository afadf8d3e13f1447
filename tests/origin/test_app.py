"""The origin over real HTTP: statuses, headers, bodies; tricky paths sent as raw bytes."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import brotli
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from origin.app import make_app
from origin.cache_policy import CachePolicy
from storage.local import LocalStore
from tests.origin.served import PATHS, serve

if TYPE_CHECKING:
    from pathlib import Path

SEGMENT = bytes(range(256)) * 40  # 10,240 bytes
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50
BASE = "/media/demo/v1"


class SpyStore(LocalStore):
    """A local store that records which keys were asked for: the seam the path tests watch."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.touched: list[str] = []

    def stat(self, key: str) -> Any:
        self.touched.append(key)
        return super().stat(key)


@pytest.fixture
def store(tmp_path: Path) -> SpyStore:
    s = SpyStore(tmp_path / "data")
    s.put_bytes("media/demo/v1/master.m3u8", PLAYLIST)
    s.put_bytes("media/demo/v1/manifest.mpd", b"<MPD/>" * 100)
    s.put_bytes("media/demo/v1/video/720p/init.mp4", b"init")
    s.put_bytes("media/demo/v1/video/720p/seg-00001.m4s", SEGMENT)
    s.put_bytes("media/demo/v1/audio/en/init.mp4", b"audio-init")
    s.put_bytes("media/demo/v1/notes.txt", b"not a served kind")
    s.put_bytes("catalog/titles/demo.json", b'{"secret": true}')
    s.put_bytes("keys/k1.json", b"key material")
    s.touched.clear()
    return s


ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture(params=PATHS)
async def client(
    store: SpyStore, aiohttp_client: Any, request: pytest.FixtureRequest
) -> TestClient[Any, Any]:
    return await serve(aiohttp_client, make_app(store, CachePolicy()), request.param)


async def test_segment_is_served_whole_with_immutable_caching(client: TestClient[Any, Any]) -> None:
    response = await client.get(f"{BASE}/video/720p/seg-00001.m4s")
    assert response.status == 200
    assert await response.read() == SEGMENT
    h = response.headers
    assert h["Content-Type"] == "video/iso.segment"
    assert h["Content-Length"] == str(len(SEGMENT))
    assert h["Cache-Control"] == "public, max-age=31536000, immutable"
    assert h["CDN-Cache-Control"] == "public, max-age=31536000"
    assert h["Accept-Ranges"] == "bytes"
    assert h["ETag"].startswith('"')
    assert len(h["ETag"]) == 42
    assert h["Last-Modified"].endswith(" GMT")
    assert h["Access-Control-Allow-Origin"] == "*"
    assert {"Content-Length", "Content-Range", "ETag"} <= set(h["Access-Control-Expose-Headers"].split(", "))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("master.m3u8", "application/vnd.apple.mpegurl"),
        ("manifest.mpd", "application/dash+xml"),
        ("video/720p/init.mp4", "video/mp4"),
        ("audio/en/init.mp4", "audio/mp4"),
    ],
)
async def test_content_type_per_kind(client: TestClient[Any, Any], path: str, content_type: str) -> None:
    response = await client.get(f"{BASE}/{path}", headers={"Accept-Encoding": "identity"})
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type


async def test_manifest_is_gzipped_on_request_with_its_own_etag(client: TestClient[Any, Any]) -> None:
    plain = await client.get(f"{BASE}/master.m3u8", headers={"Accept-Encoding": "identity"})
    zipped = await client.get(
        f"{BASE}/master.m3u8", headers={"Accept-Encoding": "gzip, br"}, auto_decompress=False
    )
    assert await plain.read() == PLAYLIST
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await zipped.read()) == PLAYLIST
    assert int(zipped.headers["Content-Length"]) < len(PLAYLIST)
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert "stale-while-revalidate" in zipped.headers["Cache-Control"]
    refused = await client.get(f"{BASE}/master.m3u8", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


async def test_if_none_match_gives_304_with_validators(client: TestClient[Any, Any]) -> None:
    first = await client.get(f"{BASE}/video/720p/seg-00001.m4s")
    again = await client.get(
        f"{BASE}/video/720p/seg-00001.m4s", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    since = await client.get(
        f"{BASE}/video/720p/seg-00001.m4s", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status == 304


async def test_if_match_mismatch_is_412(client: TestClient[Any, Any]) -> None:
    response = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"If-Match": '"stale"'})
    assert response.status == 412
    assert response.headers["Content-Type"] == "application/problem+json"


async def test_range_gives_206_with_the_exact_bytes(client: TestClient[Any, Any]) -> None:
    response = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=100-199"})
    assert response.status == 206
    assert await response.read() == SEGMENT[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(SEGMENT)}"
    assert response.headers["Content-Length"] == "100"
    suffix = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=-10"})
    assert await suffix.read() == SEGMENT[-10:]


async def test_if_range_with_a_stale_etag_sends_the_whole_object(client: TestClient[Any, Any]) -> None:
    response = await client.get(
        f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=0-9", "If-Range": '"stale"'}
    )
    assert response.status == 200
    assert await response.read() == SEGMENT


async def test_unsatisfiable_range_is_416_with_the_size(client: TestClient[Any, Any]) -> None:
    response = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=99999-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(SEGMENT)}"
    body = await response.json(content_type="application/problem+json")
    assert body["status"] == 416
    assert body["title"] == "Range not satisfiable"
    assert response.headers["Cache-Control"] == "no-store"


async def test_head_has_the_headers_and_no_body(client: TestClient[Any, Any]) -> None:
    response = await client.head(f"{BASE}/video/720p/seg-00001.m4s")
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(SEGMENT))
    assert await response.read() == b""


async def test_cors_preflight_allows_range(client: TestClient[Any, Any]) -> None:
    response = await client.options(
        f"{BASE}/video/720p/seg-00001.m4s",
        headers={
            "Origin": "https://player.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Range" in response.headers["Access-Control-Allow-Headers"]
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "pid": os.getpid()}


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        pytest.param("GET", f"{BASE}/video/720p/seg-09999.m4s", 404, "Not found", id="missing-segment"),
        pytest.param("GET", f"{BASE}/notes.txt", 404, "Not found", id="unserved-kind"),
        pytest.param("GET", "/catalog/titles/demo.json", 404, "Not Found", id="private-prefix"),
        pytest.param("GET", "/nothing-here", 404, "Not Found", id="unknown-route"),
        pytest.param("POST", f"{BASE}/master.m3u8", 405, "Method Not Allowed", id="post"),
        pytest.param("DELETE", f"{BASE}/master.m3u8", 405, "Method Not Allowed", id="delete"),
    ],
)
async def test_bad_requests_get_problem_json(
    client: TestClient[Any, Any], method: str, path: str, status: int, title: str
) -> None:
    response = await client.request(method, path)
    assert response.status == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = await response.json(content_type="application/problem+json")
    assert (body["status"], body["title"]) == (status, title)
    assert body["detail"]
    assert body["instance"]
    if status == 405:
        assert response.headers["Allow"] == "GET,HEAD,OPTIONS"


async def raw_request(server: TestServer, raw_path: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a request line exactly as given, bypassing any client-side URL normalisation."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET " + raw_path + b" HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def traversal_paths() -> Iterator[Any]:
    for raw in [
        b"/media/../catalog/titles/demo.json",
        b"/media/%2e%2e/catalog/titles/demo.json",
        b"/media/%2E%2E/keys/k1.json",
        b"/media/demo%2f..%2f..%2fkeys/k1.json",
        b"/media/demo/v1/..%5c..%5c..%5ckeys/k1.json",
        b"/media/demo\\..\\..\\keys/k1.json",
        b"/media//keys/k1.json",
        b"/media/demo/v1/master.m3u8%00.mp4",
        b"/media/%2fkeys/k1.json",
        b"/media/demo/v1/video/720p/..%2f..%2f..%2f..%2fkeys/k1.json",
    ]:
        yield pytest.param(raw, id=raw.decode())


@pytest.mark.parametrize("raw", list(traversal_paths()))
async def test_paths_leaving_media_are_404_problems_without_touching_storage(
    client: TestClient[Any, Any], store: SpyStore, raw: bytes
) -> None:
    status, headers, body = await raw_request(client.server, raw)
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 404
    assert b"secret" not in body
    assert b"key material" not in body
    assert store.touched == []


async def test_local_segments_are_sent_with_sendfile(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every body byte of a local segment leaves through sendfile(2), whole or ranged, whether the
    socket takes it at once or the loop sends the rest."""
    sent: list[tuple[int, int]] = []  # (offset, bytes the kernel took)
    original = os.sendfile

    def spy(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        done = original(out_fd, in_fd, offset, count)
        sent.append((offset or 0, done))
        return done

    monkeypatch.setattr(os, "sendfile", spy)
    whole = await client.get(f"{BASE}/video/720p/seg-00001.m4s")
    assert await whole.read() == SEGMENT
    assert sent[0][0] == 0
    assert sum(n for _, n in sent) == len(SEGMENT)
    sent.clear()
    ranged = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=1000-1999"})
    assert await ranged.read() == SEGMENT[1000:2000]
    assert sent[0][0] == 1000
    assert sum(n for _, n in sent) == 1000


SEG = f"{BASE}/video/720p/seg-00001.m4s"


async def test_a_bad_q_value_is_not_a_server_error(client: TestClient[Any, Any]) -> None:
    """RFC 9110 §12.4.2: a malformed weight makes that element invalid; the rest still counts."""
    response = await client.get(
        f"{BASE}/master.m3u8", headers={"Accept-Encoding": "gzip;q=bogus, br"}, auto_decompress=False
    )
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "br"  # gzip's element is dropped, br still counts
    assert brotli.decompress(await response.read()) == PLAYLIST


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        pytest.param("*, gzip;q=0", "br", id="explicit-q0-beats-star-which-covers-br"),
        pytest.param("*, gzip;q=0, br;q=0", None, id="every-offered-coding-refused"),
        pytest.param("identity;q=1, gzip;q=0.001", None, id="q-values-compared"),
        pytest.param("gzip;q=0.5, identity;q=0.4", "gzip", id="higher-q-gzip"),
        pytest.param("identity;q=0", None, id="nothing-acceptable-sends-identity"),
        pytest.param("*", "gzip", id="star-covers-gzip"),
        pytest.param("x-gzip", "gzip", id="x-gzip-alias"),
    ],
)
async def test_content_coding_is_chosen_by_q_value(
    client: TestClient[Any, Any], accept: str, coding: str | None
) -> None:
    response = await client.get(
        f"{BASE}/master.m3u8", headers={"Accept-Encoding": accept}, auto_decompress=False
    )
    assert response.status == 200
    assert response.headers.get("Content-Encoding") == coding
    assert response.headers["Vary"] == "Accept-Encoding"
    body = await response.read()
    decode = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[coding]
    assert decode(body) == PLAYLIST


@pytest.mark.parametrize("requested", ["bytes=0-9", "bytes=99999-"])
async def test_head_has_no_range_semantics(client: TestClient[Any, Any], requested: str) -> None:
    """RFC 9110 §14.2: only GET has range semantics; HEAD answers as a full GET would."""
    response = await client.head(SEG, headers={"Range": requested})
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(SEGMENT))
    assert "Content-Range" not in response.headers
    assert response.headers["Accept-Ranges"] == "bytes"


async def test_several_if_none_match_lines_are_one_list(client: TestClient[Any, Any]) -> None:
    """RFC 9110 §5.3: field lines of one list field are one comma-joined value."""
    etag = (await client.get(SEG)).headers["ETag"]
    response = await client.get(SEG, headers=[("If-None-Match", '"other"'), ("If-None-Match", etag)])
    assert response.status == 304


async def test_several_if_match_lines_are_one_list(client: TestClient[Any, Any]) -> None:
    etag = (await client.get(SEG)).headers["ETag"]
    response = await client.get(SEG, headers=[("If-Match", '"other"'), ("If-Match", etag)])
    assert response.status == 200
    assert await response.read() == SEGMENT


async def test_several_accept_encoding_lines_are_one_list(client: TestClient[Any, Any]) -> None:
    response = await client.get(
        f"{BASE}/master.m3u8",
        headers=[("Accept-Encoding", "identity;q=0.1"), ("Accept-Encoding", "gzip")],
        auto_decompress=False,
    )
    assert response.headers["Content-Encoding"] == "gzip"


async def test_a_two_member_if_modified_since_is_ignored(client: TestClient[Any, Any]) -> None:
    """RFC 9110 §13.1.3: a field value with more than one member is ignored."""
    modified = (await client.get(SEG)).headers["Last-Modified"]
    response = await client.get(SEG, headers=[("If-Modified-Since", modified)] * 2)
    assert response.status == 200


async def test_if_range_date_needs_a_strong_last_modified(
    client: TestClient[Any, Any], store: SpyStore
) -> None:
    """RFC 9110 §13.1.5 and §8.8.2.2: a Last-Modified not a second before Date is weak."""
    path = store.local_path("media/demo/v1/video/720p/seg-00001.m4s")
    assert path is not None
    later = time.time() + 3600  # a clock skewed store: the object claims to change in an hour
    os.utime(path, (later, later))
    last_modified = (await client.get(SEG)).headers["Last-Modified"]
    response = await client.get(SEG, headers={"Range": "bytes=0-9", "If-Range": last_modified})
    assert response.status == 200
    assert await response.read() == SEGMENT


async def test_if_range_date_of_an_old_object_is_honoured(
    client: TestClient[Any, Any], store: SpyStore
) -> None:
    path = store.local_path("media/demo/v1/video/720p/seg-00001.m4s")
    assert path is not None
    os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14T22:13:20Z
    response = await client.get(
        SEG, headers={"Range": "bytes=0-9", "If-Range": "Tue, 14 Nov 2023 22:13:20 GMT"}
    )
    assert response.status == 206
    assert await response.read() == SEGMENT[:10]


async def test_a_suffix_range_of_an_empty_object_is_the_whole_empty_object(
    client: TestClient[Any, Any], store: SpyStore
) -> None:
    """RFC 9110 §14.1.1: satisfiable, but no 206 can describe zero bytes; §14.2 lets us send 200."""
    store.put_bytes("media/demo/v1/video/720p/seg-00003.m4s", b"")
    response = await client.get(f"{BASE}/video/720p/seg-00003.m4s", headers={"Range": "bytes=-5"})
    assert response.status == 200
    assert "Content-Range" not in response.headers
    assert response.headers["Content-Length"] == "0"
