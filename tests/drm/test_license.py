"""The license server through aiohttp's test client: mounted on the origin, and alone."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import TYPE_CHECKING, Any

import pytest

from drm.keys import ContentKey, new_content_key
from drm.keystore import ObjectKeyStore, record_key
from drm.license import LicenseService, aes128_key_uri, b64url, clearkey_url
from drm.tokens import issue_token
from origin.app import make_app, make_license_app
from origin.cache_policy import CachePolicy
from storage.local import LocalStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from aiohttp.test_utils import TestClient, TestServer

KEK = bytes(range(32))
SECRET = b"license-test-secret-of-32-bytes!"
OTHER_SECRET = b"another-secret-that-is-32-bytes!"
CLEARKEY = "/license/clearkey"


class SpyStore(LocalStore):
    """A local store that records every key asked for: the seam the path tests watch."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.touched: list[str] = []

    def get_bytes(self, key: str) -> bytes:
        self.touched.append(key)
        return super().get_bytes(key)

    def stat(self, key: str) -> Any:
        self.touched.append(key)
        return super().stat(key)


@pytest.fixture
def store(tmp_path: Path) -> SpyStore:
    return SpyStore(tmp_path / "data")


@pytest.fixture
def demo_keys(store: SpyStore) -> list[ContentKey]:
    keys = ObjectKeyStore(store, KEK)
    mine = [new_content_key("audio"), new_content_key("hd")]
    for key in mine:
        keys.put("demo", key)
    return mine


@pytest.fixture
def other_key(store: SpyStore) -> ContentKey:
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("premium", key)
    return key


@pytest.fixture(params=["origin", "standalone"])
async def client(
    request: pytest.FixtureRequest, store: SpyStore, aiohttp_client: Any
) -> TestClient[Any, Any]:
    service = LicenseService(ObjectKeyStore(store, KEK), SECRET)
    policy = CachePolicy()
    app = make_app(store, policy, license_service=service) if request.param == "origin" else None
    result: TestClient[Any, Any] = await aiohttp_client(app or make_license_app(policy, service))
    return result


def bearer(
    title: str = "demo", secret: bytes = SECRET, now: Callable[[], float] = time.time
) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, title, 60, now=now)}"}


def kids_body(*keys: ContentKey) -> dict[str, Any]:
    return {"kids": [b64url(k.kid) for k in keys], "type": "temporary"}


async def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body: dict[str, Any] = await response.json(content_type="application/problem+json")
    assert body["status"] == status
    return body


async def test_clearkey_license_returns_the_keys_as_a_jwk_set(
    client: TestClient[Any, Any], demo_keys: list[ContentKey]
) -> None:
    response = await client.post(CLEARKEY, json=kids_body(*demo_keys), headers=bearer())
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert await response.json() == {
        "keys": [{"kty": "oct", "k": b64url(k.key), "kid": b64url(k.kid)} for k in demo_keys],
        "type": "temporary",
    }
    text = await response.text()
    assert "=" not in text  # base64url without padding (W3C EME §9.1.4)


async def test_aes128_key_uri_returns_the_16_raw_bytes(
    client: TestClient[Any, Any], demo_keys: list[ContentKey]
) -> None:
    response = await client.get(f"/license/aes128/{demo_keys[0].kid_hex}", headers=bearer())
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.read() == demo_keys[0].key


def test_license_urls_for_manifests() -> None:
    kid = bytes(range(16))
    assert clearkey_url("https://cdn.example/") == "https://cdn.example/license/clearkey"
    assert aes128_key_uri("https://cdn.example", kid) == f"https://cdn.example/license/aes128/{kid.hex()}"


async def test_missing_token_is_401_with_a_bearer_challenge(
    client: TestClient[Any, Any], demo_keys: list[ContentKey]
) -> None:
    response = await client.post(CLEARKEY, json=kids_body(*demo_keys))
    body = await problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vodpipe"'
    assert "bearer token is required" in body["detail"]
    response = await client.get(f"/license/aes128/{demo_keys[0].kid_hex}")
    await problem(response, 401)


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        pytest.param(lambda: bearer(now=lambda: time.time() - 61), "expired", id="expired"),
        pytest.param(lambda: bearer(secret=OTHER_SECRET), "signature does not verify", id="forged"),
        pytest.param(lambda: {"Authorization": "Bearer not.a.token"}, "not valid", id="garbage"),
        pytest.param(lambda: {"Authorization": "Basic dXNlcjpwdw=="}, "Bearer TOKEN", id="basic-auth"),
    ],
)
async def test_bad_tokens_are_401_with_the_reason(
    client: TestClient[Any, Any],
    demo_keys: list[ContentKey],
    headers: Callable[[], dict[str, str]],
    detail: str,
) -> None:
    response = await client.post(CLEARKEY, json=kids_body(*demo_keys), headers=headers())
    body = await problem(response, 401)
    assert detail in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="vodpipe", error="invalid_')


async def test_another_titles_kid_is_403(
    client: TestClient[Any, Any], demo_keys: list[ContentKey], other_key: ContentKey
) -> None:
    response = await client.post(CLEARKEY, json=kids_body(demo_keys[0], other_key), headers=bearer())
    body = await problem(response, 403)
    assert body["detail"] == f"the token for 'demo' does not cover KID {other_key.kid_hex}"
    response = await client.get(f"/license/aes128/{other_key.kid_hex}", headers=bearer())
    await problem(response, 403)


async def test_unknown_kid_is_404(client: TestClient[Any, Any], demo_keys: list[ContentKey]) -> None:
    unknown = new_content_key()
    body = await problem(await client.post(CLEARKEY, json=kids_body(unknown), headers=bearer()), 404)
    assert unknown.kid_hex in body["detail"]
    await problem(await client.get(f"/license/aes128/{unknown.kid_hex}", headers=bearer()), 404)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param(b"{not json", "not JSON", id="not-json"),
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"[]", "JSON object", id="array"),
        pytest.param(b'{"type": "temporary"}', "non-empty list", id="no-kids"),
        pytest.param(b'{"kids": []}', "non-empty list", id="empty-kids"),
        pytest.param(b'{"kids": "AAAAAAAAAAAAAAAAAAAAAA"}', "non-empty list", id="kids-not-a-list"),
        pytest.param(b'{"kids": [42]}', "base64url string", id="kid-not-a-string"),
        pytest.param(b'{"kids": ["AAAA"]}', "not 16 bytes", id="kid-too-short"),
        pytest.param(b'{"kids": ["AAAAAAAAAAAA!AAAAAAAAAA"]}', "base64url", id="kid-not-base64url"),
        pytest.param(b'{"kids": ["AAAAAAAAAAAAAAAAAAAAAA"], "type": "forever"}', '"type"', id="bad-type"),
        pytest.param(
            b'{"kids": [' + b'"AAAAAAAAAAAAAAAAAAAAAA",' * 64 + b'"AAAAAAAAAAAAAAAAAAAAAA"]}',
            "at most 64",
            id="too-many",
        ),
    ],
)
async def test_malformed_requests_are_400(client: TestClient[Any, Any], body: bytes, detail: str) -> None:
    response = await client.post(CLEARKEY, data=body, headers=bearer() | {"Content-Type": "application/json"})
    assert detail in (await problem(response, 400))["detail"]


@pytest.mark.parametrize("kid", ["xyz", "00" * 15, "g" * 32, "00" * 17])
async def test_malformed_key_uri_is_400(client: TestClient[Any, Any], kid: str) -> None:
    response = await client.get(f"/license/aes128/{kid}", headers=bearer())
    assert "32 hex digits" in (await problem(response, 400))["detail"]


async def test_cors_preflight_allows_authorization_and_json(client: TestClient[Any, Any]) -> None:
    for path in [CLEARKEY, "/license/aes128/" + "00" * 16]:
        response = await client.options(
            path,
            headers={
                "Origin": "https://player.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type"} <= allowed
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Cache-Control"] == "no-store"


async def test_wrong_method_is_405_problem(client: TestClient[Any, Any]) -> None:
    response = await client.get(CLEARKEY)
    await problem(response, 405)
    assert response.headers["Allow"] == "OPTIONS,POST"


async def test_each_request_writes_one_audit_line_without_key_material(
    client: TestClient[Any, Any],
    demo_keys: list[ContentKey],
    other_key: ContentKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vodpipe.license.audit")
    await client.post(CLEARKEY, json=kids_body(*demo_keys), headers=bearer())
    await client.post(CLEARKEY, json=kids_body(other_key), headers=bearer())
    await client.post(CLEARKEY, json=kids_body(*demo_keys))
    await client.get(f"/license/aes128/{demo_keys[1].kid_hex}", headers=bearer())

    lines = [r.getMessage() for r in caplog.records if r.name == "vodpipe.license.audit"]
    assert len(lines) == 4
    granted, forbidden, anonymous, aes = lines
    kids = ",".join(k.kid_hex for k in demo_keys)
    assert granted == f"license clearkey outcome=granted status=200 title=demo kids={kids} client=127.0.0.1"
    assert forbidden.startswith(
        f"license clearkey outcome=refused status=403 title=demo kids={other_key.kid_hex}"
    )
    assert anonymous.startswith("license clearkey outcome=refused status=401 title=- kids=-")
    aes_kid = demo_keys[1].kid_hex
    assert aes == f"license aes128 outcome=granted status=200 title=demo kids={aes_kid} client=127.0.0.1"
    log_text = caplog.text
    for key in [*demo_keys, other_key]:
        for form in [key.key.hex(), b64url(key.key), base64.b64encode(key.key).decode()]:
            assert form not in log_text
    assert SECRET.decode() not in log_text


# --- No path of the origin reaches keys/ -------------------------------------------------------


async def raw_get(server: TestServer, raw_path: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send a request line exactly as given, bypassing any client-side URL normalisation."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
    writer.write(b"GET " + raw_path + b" HTTP/1.1\r\nHost: origin\r\n" + extra + b"Connection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def key_paths(kid: str) -> Iterator[Any]:
    record = f"keys/{kid}.json".encode()
    for raw in [
        b"/" + record,
        b"/keys/",
        b"/media/../" + record,
        b"/media/%2e%2e/" + record,
        b"/media/%2E%2E/" + record,
        b"/media/%252e%252e/" + record,
        b"/media/demo%2f..%2f..%2f" + record,
        b"/media/demo/v1/..%2f..%2f..%2f" + record,
        b"/media/demo/v1/%252e%252e%252f%252e%252e%252f" + record,
        b"/media/..%5c" + record,
        b"/media//" + record,
        b"/media/%2f" + record,
        b"/license/../" + record,
        b"/license/%2e%2e/" + record,
        b"/license/aes128/..%2f..%2f" + record.replace(b"/", b"%2f"),
        b"/license/aes128/%2e%2e%2f%2e%2e%2f" + record.replace(b"/", b"%2f"),
        b"/license/aes128/%252e%252e%252f" + record,
        b"/license/clearkey/../../" + record,
        b"/license/aes128/" + kid.encode() + b".json",
        b"/license/aes128/" + kid.encode() + b"%00",
    ]:
        yield pytest.param(raw, id=raw.decode())


@pytest.mark.parametrize("kind", ["no-token", "token"])
async def test_no_path_of_the_origin_reaches_keys(
    store: SpyStore, demo_keys: list[ContentKey], aiohttp_client: Any, kind: str
) -> None:
    service = LicenseService(ObjectKeyStore(store, KEK), SECRET)
    client = await aiohttp_client(make_app(store, CachePolicy(), license_service=service))
    kid = demo_keys[0].kid_hex
    record = store.get_bytes(record_key(demo_keys[0].kid))
    headers = bearer() if kind == "token" else {}
    for param in key_paths(kid):
        (raw,) = param.values
        store.touched.clear()
        status, body = await raw_get(client.server, raw, headers)
        assert 400 <= status < 500, raw
        assert [k for k in store.touched if k.startswith("keys/")] == [], raw
        assert record not in body
        assert b"wrapped_data_key" not in body
        assert demo_keys[0].key not in body


async def test_a_key_store_failure_is_500_without_details_and_logged(
    client: TestClient[Any, Any],
    store: SpyStore,
    demo_keys: list[ContentKey],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The record was sealed under another key-encryption key than the server's.
    ObjectKeyStore(store, bytes(32)).put("demo", demo_keys[0])
    response = await client.post(CLEARKEY, json=kids_body(demo_keys[0]), headers=bearer())
    body = await problem(response, 500)
    assert body["detail"] == "the license server cannot open its keys; the error is logged"
    assert any("not the configured" in r.getMessage() for r in caplog.records if r.name == "vodpipe.license")
