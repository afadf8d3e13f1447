"""A real nginx edge (``vodpipe edge-config``) in front of a real ``vodpipe serve``, over the local
store and over S3 (a moto server): a storm of misses makes one origin request, a second pass is
all edge hits, byte ranges come from whole cached objects, the cached title outlives its origin,
and a store outage behind the origin loses nothing a cache could answer and makes no 500."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import subprocess
import time
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import aiohttp
import pytest

from origin.signing import sign_url
from tests.processes import fetch

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.edge import Published, Stack

pytestmark = pytest.mark.integration
CLIENTS = 200
SIGNING_KEY = "an-edge-test-signing-key-of-32-bytes-or-more"


STORES = ["local", "s3"]


async def _storm(url: str, clients: int) -> list[tuple[int, str, bytes]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> tuple[int, str, bytes]:
            async with session.get(url) as response:
                return response.status, response.headers["X-Cache-Status"], await response.read()

        return await asyncio.gather(*(one() for _ in range(clients)))


@pytest.mark.parametrize("store", STORES)
def test_a_cold_segment_asked_by_200_clients_reaches_the_origin_once(
    make_stack: Callable[[str], Stack], published: Published, store: str
) -> None:
    stack = make_stack(store)
    path = published.segment(2)
    expected = published.files()[path]
    answers = asyncio.run(_storm(f"{stack.edge.url}{path}", CLIENTS))
    assert {(status, body == expected) for status, _, body in answers} == {(200, True)}
    assert [cache for _, cache, _ in answers].count("MISS") == 1  # the rest waited on the lock
    stack.edge.entries(until=lambda lines: sum(e["uri"] == path for e in lines) == CLIENTS)
    (asked,) = stack.upstream(path)
    assert (asked["upstream"], asked["upstream_status"]) == (stack.origin_url.removeprefix("http://"), "200")


@pytest.mark.parametrize("store", STORES)
def test_a_second_pass_is_served_entirely_by_the_edge(
    make_stack: Callable[[str], Stack], published: Published, store: str
) -> None:
    stack = make_stack(store)
    files = published.files()
    first = {path: stack.get(path) for path in files}
    assert {path: (r.status, r.body) for path, r in first.items()} == {p: (200, b) for p, b in files.items()}
    assert {r.headers["X-Cache-Status"] for r in first.values()} == {"MISS"}
    second = {path: stack.get(path) for path in files}
    assert {path: (r.status, r.body) for path, r in second.items()} == {p: (200, b) for p, b in files.items()}
    assert {path: r.headers["X-Cache-Status"] for path, r in second.items()} == dict.fromkeys(files, "HIT")
    # the origin's headers pass through: lifetimes, validators, CORS
    segment, master = second[published.segment(1)], second[f"{published.prefix}/master.m3u8"]
    assert segment.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert segment.headers["ETag"] == first[published.segment(1)].headers["ETag"]
    assert master.headers["Access-Control-Allow-Origin"] == "*"
    assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    # CMCD (CTA-5004) rides in the query, different for every player and request: not in the key
    segment_path = published.segment(2)
    for cmcd in ('bl=3000,sid="a"', 'bl=800,sid="b"'):
        tagged = fetch(f"{stack.edge.url}{segment_path}?{urlencode({'CMCD': cmcd})}")
        expected = (200, "HIT", files[segment_path])
        assert (tagged.status, tagged.headers["X-Cache-Status"], tagged.body) == expected
    stack.edge.entries(until=lambda lines: len(lines) == 2 * len(files) + 2)
    assert {path: len(stack.upstream(path)) for path in files} == dict.fromkeys(files, 1)


@pytest.mark.parametrize("store", STORES)
def test_ranges_are_cut_from_the_whole_cached_object(
    make_stack: Callable[[str], Stack], published: Published, store: str
) -> None:
    stack = make_stack(store)
    path = published.segment(1)
    whole = published.files()[path]
    cold = stack.get(path, {"Range": "bytes=100-1099"})
    assert (cold.status, cold.body) == (206, whole[100:1100])
    assert cold.headers["Content-Range"] == f"bytes 100-1099/{len(whole)}"
    stack.edge.entries(until=lambda lines: len(lines) == 1)
    (asked,) = stack.upstream(path)
    assert asked["upstream_status"] == "200"  # the origin was asked for the whole object, not a 206
    hit = stack.get(path, {"Range": "bytes=-500"})
    assert (hit.status, hit.headers["X-Cache-Status"], hit.body) == (206, "HIT", whole[-500:])
    assert hit.headers["Content-Range"] == f"bytes {len(whole) - 500}-{len(whole) - 1}/{len(whole)}"
    full = stack.get(path)
    assert (full.status, full.headers["X-Cache-Status"], full.body) == (200, "HIT", whole)
    assert stack.get(path, {"Range": f"bytes={len(whole)}-"}).status == 416


@pytest.mark.parametrize("store", STORES)
def test_with_the_origin_stopped_the_cached_title_is_still_served(
    make_stack: Callable[[str], Stack], published: Published, store: str
) -> None:
    stack = make_stack(store)
    files = published.files()
    for path in files:
        assert stack.get(path).status == 200
    assert stack.origin.stop() == 0
    for path, body in files.items():
        during = stack.get(path)
        assert (during.status, during.body) == (200, body), path
        assert during.headers["X-Cache-Status"] in ("HIT", "STALE")
    never = stack.get(published.segment(1, rung="none"))  # nothing cached and nobody to ask
    assert never.status == 503
    assert never.headers["Retry-After"] == "5"
    assert never.headers["Content-Type"] == "application/problem+json"
    assert json.loads(never.body)["type"] == "https://vodpipe.dev/problems/origin-unavailable"


@pytest.mark.parametrize("store", STORES)
def test_an_expired_manifest_is_served_stale_while_the_origin_is_down(
    make_stack: Callable[..., Stack], published: Published, store: str
) -> None:
    stack = make_stack(store, manifest_max_age="1")  # the edge keeps it as long as the origin says
    path = f"{published.prefix}/manifest.mpd"
    assert stack.get(path).headers["X-Cache-Status"] == "MISS"
    assert stack.origin.stop() == 0
    seen = _statuses_until(stack, path, published.files()[path], lambda status: status != "HIT")
    assert seen[-1] == "STALE", seen  # expired, the origin unreachable: stale-if-error


def test_an_expired_manifest_is_served_stale_and_refreshed_in_the_background(
    make_stack: Callable[..., Stack], published: Published
) -> None:
    stack = make_stack("local", manifest_max_age="1")
    path = f"{published.prefix}/master.m3u8"
    body = published.files()[path]
    assert stack.get(path).headers["X-Cache-Status"] == "MISS"
    expired = _statuses_until(stack, path, body, lambda status: status != "HIT")
    # the viewer got the cached copy at once while one background request refreshed it
    assert expired[-1] in ("STALE", "UPDATING"), expired
    refreshed = _statuses_until(stack, path, body, lambda status: status == "HIT")
    assert set(refreshed[:-1]) <= {"UPDATING", "STALE"}, refreshed
    waited = [e["cache"] for e in stack.edge.entries() if e["cache"] in ("EXPIRED", "REVALIDATED")]
    assert waited == []  # no viewer waited on the origin for a refresh


def _statuses_until(stack: Stack, path: str, body: bytes, done: Callable[[str], bool]) -> list[str]:
    """X-Cache-Status of repeated GETs (every one 200 with ``body``) until ``done`` holds for one."""
    seen: list[str] = []
    for _ in range(200):
        answer = stack.get(path)
        assert (answer.status, answer.body) == (200, body)
        seen.append(answer.headers["X-Cache-Status"])
        if done(seen[-1]):
            return seen
        with contextlib.suppress(subprocess.TimeoutExpired):
            stack.edge.process.proc.wait(timeout=0.05)  # a pause that also notices nginx dying
    raise AssertionError(f"no such answer in {len(seen)} requests: {seen}")


def test_a_manifest_is_cached_once_per_accept_encoding(
    make_stack: Callable[..., Stack], published: Published
) -> None:
    stack = make_stack("local")
    path = f"{published.prefix}/manifest.mpd"
    plain = published.files()[path]
    for _ in range(2):  # a miss per representation, then a hit per representation
        gzipped = stack.get(path, {"Accept-Encoding": "gzip"})
        assert gzipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(gzipped.body) == plain
        identity = stack.get(path)
        assert (identity.headers["Content-Encoding"], identity.body) == (None, plain)
    statuses = [e["cache"] for e in stack.edge.entries(until=lambda lines: len(lines) == 4)]
    assert statuses == ["MISS", "MISS", "HIT", "HIT"]  # never the gzip body to a client without gzip


def test_a_signed_title_is_never_answered_from_the_edge_cache(
    make_stack: Callable[..., Stack], published: Published
) -> None:
    stack = make_stack("local", url_signing_key=SIGNING_KEY, signed_urls="1")  # every title signed
    path = f"{published.prefix}/master.m3u8"
    segment = published.segment(1)
    for url in (path, segment):
        signed = sign_url(SIGNING_KEY.encode(), f"{stack.edge.url}{url}", 600, time.time())
        for _ in range(2):  # a signed answer is private: never stored, so the origin checks each one
            answer = fetch(signed)
            assert (answer.status, answer.headers["X-Cache-Status"]) == (200, "MISS")
            assert answer.headers["Cache-Control"].startswith("private, ")
        unsigned = stack.get(url)  # after a signed one: still refused, not the signed one's body
        assert (unsigned.status, unsigned.headers["X-Cache-Status"]) == (403, "MISS")
        assert json.loads(unsigned.body)["type"] == "https://vodpipe.dev/problems/signed-url"
        forged = fetch(signed[:-4] + "AAAA")
        assert (forged.status, forged.headers["X-Cache-Status"]) == (403, "MISS")
    assert (
        fetch(sign_url(SIGNING_KEY.encode(), f"{stack.edge.url}{segment}", 600, time.time())).body
        == (published.files()[segment])
    )


def test_a_cors_preflight_passes_through_to_the_origin(
    make_stack: Callable[..., Stack], published: Published
) -> None:
    stack = make_stack("local")
    request = urllib.request.Request(f"{stack.edge.url}{published.segment(1)}", method="OPTIONS")
    request.add_header("Origin", "https://player.example")
    request.add_header("Access-Control-Request-Headers", "range")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Range" in response.headers["Access-Control-Allow-Headers"]
    (entry,) = stack.edge.entries(until=lambda lines: len(lines) == 1)
    assert (entry["method"], entry["cache"]) == ("OPTIONS", "")  # asked of the origin, never cached


def test_with_one_of_two_origins_down_the_other_answers_every_miss(
    make_stack: Callable[..., Stack], published: Published
) -> None:
    stack = make_stack("local", origins=2)
    assert stack.origins[1].stop() == 0  # the second origin is gone; the edge still names it
    files = published.files()
    answers = {path: stack.get(path) for path in files}
    assert {p: (r.status, r.body) for p, r in answers.items()} == {p: (200, b) for p, b in files.items()}
    live, dead = (url.removeprefix("http://") for url in stack.origin_urls)
    # every miss was answered by the live origin, some after a failed try at the dead one
    tried = [e["upstream"].split(", ") for e in stack.edge.entries()]
    assert {addresses[-1] for addresses in tried} == {live}
    assert [live] in tried
    assert [dead, live] in tried


def test_a_store_outage_loses_nothing_a_cache_could_answer(
    make_stack: Callable[[str], Stack], published: Published
) -> None:
    stack = make_stack("s3")
    assert stack.store_link is not None
    files = published.files()
    paths = list(files)
    at_edge, at_origin, uncached = paths[0::3], paths[1::3], paths[2::3]
    for path in at_edge:  # through the edge: cached there (and at the origin)
        assert stack.get(path).status == 200
    for path in at_origin:  # straight to the origin: only its hot/disk cache holds these
        assert fetch(f"{stack.origin_url}{path}").status == 200
    stack.store_link.stop()  # the store is unreachable: connections refused, open ones cut
    answers = {path: stack.get(path) for path in paths}
    assert all(r.status != 500 for r in answers.values())
    for path in at_edge + at_origin:
        assert (answers[path].status, answers[path].body) == (200, files[path]), path
    for path in at_edge:
        assert answers[path].headers["X-Cache-Status"] == "HIT"
    for path in uncached:
        response = answers[path]
        assert response.status == 503, path
        assert response.headers["Retry-After"] == "5"
        assert json.loads(response.body)["type"] == "https://vodpipe.dev/problems/store-unavailable"
    stack.store_link.start()  # the store is back, on the same port
    for path in uncached:  # the 503s were not cached
        after = stack.get(path)
        assert (after.status, after.body) == (200, files[path]), path
