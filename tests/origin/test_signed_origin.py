"""Signed titles over real HTTP: the rewritten manifests name only URIs that are served, bad
signatures are 403 problems saying why, and titles that need no signature are served as before."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import m3u8
import pytest

from origin.access import AccessPolicies, write_signed_urls
from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.signed import UrlSigning
from origin.signing import sign
from tests.origin.served import PATHS, serve
from tests.origin.test_app import SpyStore

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient

KEY = b"s" * 32
NOW = 1_800_000_000.0
SEGMENTS = 3


def _media_playlist() -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:4", '#EXT-X-MAP:URI="init.mp4"']
    for n in range(1, SEGMENTS + 1):
        lines += ["#EXTINF:4.000,", f"seg-{n:05d}.m4s"]
    return ("\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n").encode()


MASTER = (
    b"#EXTM3U\n#EXT-X-VERSION:7\n"
    b'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/en/index.m3u8"\n'
    b'#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"\n'
    b"video/360p/index.m3u8\n"
    b'#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"\n'
    b"video/240p/index.m3u8\n"
)
MPD = b"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT12S"
     profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1" duration="4" startNumber="1"
          media="video/$RepresentationID$/seg-$Number%05d$.m4s"
          initialization="video/$RepresentationID$/init.mp4"/>
      <Representation id="360p" bandwidth="800000"/>
      <Representation id="240p" bandwidth="400000"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4">
      <SegmentTemplate timescale="1" duration="4" startNumber="1"
          media="audio/$RepresentationID$/seg-$Number%05d$.m4s"
          initialization="audio/$RepresentationID$/init.mp4"/>
      <Representation id="en" bandwidth="128000"/>
    </AdaptationSet>
  </Period>
</MPD>
"""
RENDITIONS = ["video/360p", "video/240p", "audio/en"]


def _publish(store: SpyStore, title: str) -> dict[str, bytes]:
    objects = {"master.m3u8": MASTER, "manifest.mpd": MPD}
    for rendition in RENDITIONS:
        objects[f"{rendition}/index.m3u8"] = _media_playlist()
        objects[f"{rendition}/init.mp4"] = f"init {title} {rendition}".encode()
        for n in range(1, SEGMENTS + 1):
            objects[f"{rendition}/seg-{n:05d}.m4s"] = f"{title} {rendition} {n}".encode() * 100
    for name, data in objects.items():
        store.put_bytes(f"media/{title}/v1/{name}", data)
    return objects


@pytest.fixture
def store(tmp_path: Path) -> SpyStore:
    s = SpyStore(tmp_path / "data")
    _publish(s, "secret")
    _publish(s, "open")
    write_signed_urls(s, "secret", True)
    write_signed_urls(s, "open", False)
    s.put_bytes("catalog/titles/secret.json", b"{}")
    return s


Client = Any  # TestClient[Request, Application]


@pytest.fixture(params=PATHS)
async def client(
    store: SpyStore, aiohttp_client: Any, request: pytest.FixtureRequest
) -> TestClient[Any, Any]:
    signing = UrlSigning(KEY, AccessPolicies(store), clock=lambda: NOW)
    return await serve(aiohttp_client, make_app(store, CachePolicy(), signing=signing), request.param)


GRANT = sign(KEY, "/media/secret/", int(NOW) + 600)
BASE = "/media/secret/v1"


async def _get_ok(client: Client, url: str) -> bytes:
    response = await client.get(url)
    body: bytes = await response.read()
    assert response.status == 200, (url, body[:300])
    if urlsplit(url).path.endswith((".m3u8", ".mpd")):
        assert response.headers["Cache-Control"] == "private, max-age=10"  # the manifest max-age
        assert "ETag" not in response.headers  # the body depends on the query
    else:
        assert response.headers["Cache-Control"] == "private, max-age=600"  # as long as the grant
    assert response.headers["CDN-Cache-Control"] == "no-store"
    return body


async def test_every_uri_the_signed_hls_playlists_name_is_served(client: Client, store: SpyStore) -> None:
    fetched: dict[str, bytes] = {}
    master_url = f"{BASE}/master.m3u8?{GRANT.query}"
    master = m3u8.loads((await _get_ok(client, master_url)).decode())
    playlists = [p.uri for p in master.playlists] + [m.uri for m in master.media]
    assert len(playlists) == 3
    for uri in playlists:
        assert parse_qs(urlsplit(uri).query)["sig"] == [GRANT.signature]
        playlist_url = urljoin(master_url, uri)
        media = m3u8.loads((await _get_ok(client, playlist_url)).decode())
        uris = [media.segment_map[0].uri, *(s.uri for s in media.segments)]
        assert len(uris) == SEGMENTS + 1
        for segment in uris:
            assert segment.endswith(f"?{GRANT.query}")
            url = urljoin(playlist_url, segment)
            fetched[urlsplit(url).path] = await _get_ok(client, url)
    for path, body in fetched.items():
        assert store.get_bytes(path.lstrip("/")) == body
    assert len(fetched) == 3 * (SEGMENTS + 1)


async def test_every_segment_the_signed_mpd_templates_name_is_served(client: Client, store: SpyStore) -> None:
    mpd_url = f"{BASE}/manifest.mpd?{GRANT.query}"
    root = ET.fromstring(await _get_ok(client, mpd_url))
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    fetched = 0
    for adaptation in root.findall(".//d:AdaptationSet", ns):
        template = adaptation.find("d:SegmentTemplate", ns)
        assert template is not None
        for representation in adaptation.findall("d:Representation", ns):
            rid = representation.get("id", "")
            names = [template.get("initialization", "")] + [template.get("media", "")] * SEGMENTS
            for number, name in enumerate(names):  # the init, then $Number$ 1, 2, 3
                url = name.replace("$RepresentationID$", rid)
                url = re.sub(r"\$Number%05d\$", f"{number:05d}", url)
                assert url.endswith(f"?{GRANT.query}")
                body = await _get_ok(client, urljoin(mpd_url, url))
                assert body == store.get_bytes("media/secret/v1/" + url.split("?")[0])
                fetched += 1
    assert fetched == 3 * (SEGMENTS + 1)


async def test_a_signed_manifest_is_private_and_compressed_per_request(client: Client) -> None:
    response = await client.get(f"{BASE}/master.m3u8?{GRANT.query}", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    assert response.headers["Cache-Control"] == "private, max-age=10"  # the manifest max-age, < 600 s left
    assert response.headers["CDN-Cache-Control"] == "no-store"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = await response.read()  # aiohttp's client has decoded it
    assert body.count(GRANT.query.encode()) == 3
    raw = await client.get(f"{BASE}/master.m3u8?{GRANT.query}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in raw.headers
    assert await raw.read() == body
    head = await client.head(f"{BASE}/master.m3u8?{GRANT.query}")
    assert head.status == 200
    assert await head.read() == b""


async def test_a_grant_nearly_expired_is_cached_by_browsers_no_longer_than_it_lasts(client: Client) -> None:
    grant = sign(KEY, "/media/secret/", int(NOW) + 3)
    segment = await client.get(f"{BASE}/video/360p/seg-00001.m4s?{grant.query}")
    assert segment.headers["Cache-Control"] == "private, max-age=3"
    manifest = await client.get(f"{BASE}/master.m3u8?{grant.query}")
    assert manifest.headers["Cache-Control"] == "private, max-age=3"


BAD = [
    ("missing", "", "missing signature"),
    ("incomplete", f"exp={GRANT.expires}&prefix=/media/secret/", "incomplete signed URL: sig missing"),
    ("expired", sign(KEY, "/media/secret/", int(NOW) - 1).query, "expired"),
    ("wrong-prefix", sign(KEY, "/media/open/", int(NOW) + 600).query, "wrong prefix"),
    ("forged", sign(b"x" * 32, "/media/secret/", int(NOW) + 600).query, "forged signature"),
    ("tampered-exp", GRANT.query.replace(str(GRANT.expires), str(GRANT.expires + 1)), "forged signature"),
    ("malformed", GRANT.query.replace("exp=", "exp=soon"), "malformed signed URL: exp"),
]


@pytest.mark.parametrize(
    "path", ["master.m3u8", "manifest.mpd", "video/360p/seg-00001.m4s", "audio/en/init.mp4"]
)
@pytest.mark.parametrize(("query", "detail"), [(q, d) for _, q, d in BAD], ids=[i for i, _, _ in BAD])
async def test_a_bad_signature_is_a_403_problem_that_says_why(
    client: Client, store: SpyStore, path: str, query: str, detail: str
) -> None:
    store.touched.clear()
    response = await client.get(f"{BASE}/{path}?{query}")
    assert response.status == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    problem = await response.json()
    assert problem["type"] == "https://vodpipe.dev/problems/signed-url"
    assert problem["title"] == "Signed URL refused"
    assert problem["detail"].startswith(detail)
    assert KEY.decode() not in await response.text()
    assert not [k for k in store.touched if k.startswith("media/")]  # refused before any media is read


async def test_a_title_that_needs_no_signature_is_served_as_before(client: Client) -> None:
    for query in ("", f"?{GRANT.query}", "?sig=rubbish"):
        manifest = await client.get(f"/media/open/v1/master.m3u8{query}")
        assert manifest.status == 200
        assert await manifest.read() == MASTER  # not rewritten
        assert manifest.headers["Cache-Control"].startswith("public, max-age=10")
        assert "ETag" in manifest.headers
        segment = await client.get(f"/media/open/v1/video/360p/seg-00001.m4s{query}")
        assert segment.status == 200
        assert segment.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "raw",
    [
        "/media/secret/v1/../../../catalog/titles/secret.json",
        "/media/secret/v1/%2e%2e/%2e%2e/%2e%2e/access/secret.json",
        "/media/secret/v1/video%2f360p%2fseg-00001.m4s",
    ],
    ids=["dotdot", "encoded-dotdot", "encoded-slash"],
)
async def test_unsafe_paths_are_404_even_when_signed(client: Client, store: SpyStore, raw: str) -> None:
    store.touched.clear()
    response = await client.get(f"{raw}?{GRANT.query}")
    assert response.status == 404
    assert store.touched == []


async def test_a_signed_request_for_an_unserved_kind_is_404(client: Client) -> None:
    response = await client.get(f"/media/secret/v1/notes.txt?{GRANT.query}")
    assert response.status == 404


async def test_without_a_signing_key_a_signed_title_is_refused_not_served_open(
    store: SpyStore, aiohttp_client: Any
) -> None:
    signing = UrlSigning(None, AccessPolicies(store), clock=lambda: NOW)
    client = await aiohttp_client(make_app(store, CachePolicy(), signing=signing))
    response = await client.get(f"{BASE}/video/360p/seg-00001.m4s?{GRANT.query}")
    assert response.status == 503
    assert "VODPIPE_URL_SIGNING_KEY" in (await response.json())["detail"]
    assert (await client.get("/media/open/v1/video/360p/seg-00001.m4s")).status == 200


async def test_require_all_signs_every_title(store: SpyStore, aiohttp_client: Any) -> None:
    signing = UrlSigning(KEY, AccessPolicies(store, require_all=True), clock=lambda: NOW)
    client = await aiohttp_client(make_app(store, CachePolicy(), signing=signing))
    assert (await client.get("/media/open/v1/master.m3u8")).status == 403
    grant = sign(KEY, "/media/open/", int(NOW) + 60)
    assert (await client.get(f"/media/open/v1/master.m3u8?{grant.query}")).status == 200


async def test_preflight_needs_no_signature(client: Client) -> None:
    response = await client.options(f"{BASE}/master.m3u8")
    assert response.status == 204


async def test_a_manifest_is_parsed_once_per_version(client: Client) -> None:
    app = client.server.app
    from origin.signed import SIGNING_KEY

    for _ in range(3):
        await _get_ok(client, f"{BASE}/manifest.mpd?{GRANT.query}")
    templates = app[SIGNING_KEY].templates
    assert [key for key, _ in templates] == ["media/secret/v1/manifest.mpd"]


async def test_the_signed_hls_body_is_the_stored_one_plus_queries(client: Client) -> None:
    body = await _get_ok(client, f"{BASE}/video/240p/index.m3u8?{GRANT.query}")
    assert body.replace(f"?{GRANT.query}".encode(), b"") == _media_playlist()
