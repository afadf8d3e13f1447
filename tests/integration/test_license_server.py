"""The license routes in real processes: ``vodpipe serve`` (mounted on the origin) and
``vodpipe license-server``, with a token from ``vodpipe token``; the audit lines on stderr."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from drm.keys import ContentKey, new_content_key
from drm.keystore import ObjectKeyStore
from drm.license import b64url
from storage.local import LocalStore
from tests.conftest import vodpipe_env
from tests.processes import Fetched, Server, fetch, run_cli

pytestmark = pytest.mark.integration

KEK = bytes(range(32))


def post(url: str, body: object, headers: dict[str, str]) -> Fetched:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return vodpipe_env(tmp_path) | {
        "VODPIPE_KEY_ENCRYPTION_KEY": KEK.hex(),
        "VODPIPE_TOKEN_SECRET": "integration-test-token-secret-32b",
    }


@pytest.fixture
def key(env: dict[str, str]) -> ContentKey:
    content_key = new_content_key()
    ObjectKeyStore(LocalStore(Path(env["VODPIPE_DATA_DIR"])), KEK).put("demo", content_key)
    return content_key


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["license-server", "--port", "0"]])
def test_a_real_server_hands_keys_to_a_token_and_logs_each_request(
    env: dict[str, str], key: ContentKey, command: list[str]
) -> None:
    issued = run_cli("token", "demo", "--ttl", "300", env=env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    server = Server(command, env)
    try:
        license_url = server.wait_for("license: ")
        granted = post(
            license_url,
            {"kids": [b64url(key.kid)], "type": "temporary"},
            {"Authorization": f"Bearer {token}"},
        )
        refused = post(license_url, {"kids": [b64url(key.kid)], "type": "temporary"}, {})
        raw_key = fetch(
            license_url.replace("/clearkey", f"/aes128/{key.kid_hex}"), {"Authorization": f"Bearer {token}"}
        )
    finally:
        server.proc.send_signal(signal.SIGTERM)
        _, stderr = server.proc.communicate(timeout=30)
    assert server.proc.returncode == 0

    assert granted.status == 200
    assert granted.headers["Cache-Control"] == "no-store"
    assert json.loads(granted.body) == {
        "keys": [{"kty": "oct", "k": b64url(key.key), "kid": b64url(key.kid)}],
        "type": "temporary",
    }
    assert refused.status == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="vodpipe"'
    assert (raw_key.status, raw_key.body) == (200, key.key)

    audit = [line for line in stderr.splitlines() if " license " in line]
    assert len(audit) == 3
    assert (
        f"license clearkey outcome=granted status=200 title=demo kids={key.kid_hex} client=127.0.0.1"
        in audit[0]
    )
    assert "outcome=refused status=401 title=-" in audit[1]
    for secret in [key.key.hex(), b64url(key.key), token, KEK.hex(), env["VODPIPE_TOKEN_SECRET"]]:
        assert secret not in stderr


def test_the_origin_without_secrets_mounts_no_license_routes(tmp_path: Path) -> None:
    server = Server(["serve", "--port", "0"], vodpipe_env(tmp_path))
    try:
        origin = server.wait_for("origin: ").split(" at ")[1]
        response = fetch(origin.replace("/media/", "/license/aes128/" + "00" * 16))
    finally:
        assert server.stop() == 0
    assert response.status == 404
    assert not any(line.startswith("license: ") for line in server.lines)
