"""``vodpipe demo --encrypt``: an encrypted title published, its keys only in the key store (wrapped),
its license served to a token, and ``vodpipe check --token`` decrypting and decoding every rendition."""

from __future__ import annotations

import base64
import json
import re
import shutil
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drm.tokens import issue_token
from player_test.check import check
from player_test.clearkey import b64url
from tests.processes import fetch, run_cli

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import EncryptedDemo

pytestmark = pytest.mark.integration
SCHEMES = ["cenc", "cbcs"]
HLS_METHOD = {"cenc": "SAMPLE-AES-CTR", "cbcs": "SAMPLE-AES"}


@pytest.fixture(params=SCHEMES)
def demo(request: pytest.FixtureRequest, encrypted_demo: Callable[[str], EncryptedDemo]) -> EncryptedDemo:
    return encrypted_demo(request.param)


def license_keys(demo: EncryptedDemo, token: str) -> tuple[int, dict[str, object]]:
    """POST the title's KID (the MPD's default_KID) to the license server, as EME would."""
    found = re.search(r'cenc:default_KID="([0-9a-f-]{36})"', fetch(demo.dash).body.decode())
    assert found is not None
    kid = uuid.UUID(found.group(1)).bytes
    body = json.dumps({"kids": [b64url(kid)], "type": "temporary"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{demo.origin}/license/clearkey", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_manifests_signal_the_scheme_and_the_license_server(demo: EncryptedDemo) -> None:
    master = fetch(demo.hls).body.decode()
    license_url = f"{demo.origin}/license/clearkey"
    assert f'#EXT-X-SESSION-KEY:METHOD={HLS_METHOD[demo.scheme]},URI="{license_url}"' in master
    mpd = fetch(demo.dash).body.decode()
    assert f'schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="{demo.scheme}"' in mpd
    assert f"<dashif:Laurl>{license_url}</dashif:Laurl>" in mpd
    record = json.loads((demo.data_dir / f"catalog/titles/{demo.title}.json").read_text())
    assert (record["status"], record["encryption"]) == ("published", demo.scheme)
    assert f"/{record['published_version']}/" in demo.hls


def test_check_with_the_token_decrypts_and_decodes_every_rendition(demo: EncryptedDemo) -> None:
    for url in (demo.hls, demo.dash):
        report = check(url, demo.token)
        assert report.errors == []
        licensed = [f for f in report.findings if f.rule == "license"]
        assert len(licensed) == 3
        assert all(f.ok for f in licensed)
        assert all((r.frames or 0) > 0 for r in report.renditions)


def test_check_without_a_token_says_so_and_does_not_crash(demo: EncryptedDemo) -> None:
    result = run_cli("check", demo.dash, env=demo.env)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning: nothing is wrong
    assert "not decrypted or decoded without --token" in result.stdout
    assert "Traceback" not in result.stderr


def test_an_expired_token_gets_no_key_and_fails_the_check(demo: EncryptedDemo) -> None:
    secret = (demo.data_dir / ".secrets/token-secret").read_bytes()
    expired = issue_token(secret, demo.title, 60, now=lambda: time.time() - 3600)
    status, problem = license_keys(demo, expired)
    assert status == 401
    assert "expired" in str(problem["detail"])
    result = run_cli("check", demo.hls, "--token", expired, env=demo.env)
    assert result.returncode == 1
    assert "refused the keys (HTTP 401" in result.stdout


def test_the_printed_token_gets_the_key_and_no_key_file_holds_it(demo: EncryptedDemo) -> None:
    status, license_ = license_keys(demo, demo.token)
    assert status == 200
    keys = license_["keys"]
    assert isinstance(keys, list)
    assert len(keys) == 1
    key = base64.urlsafe_b64decode(keys[0]["k"] + "==")
    files = [p for p in (demo.data_dir / "keys").rglob("*") if p.is_file()]
    assert files
    forms = [key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key).rstrip(b"=")]
    forms.append(base64.urlsafe_b64encode(key).rstrip(b"="))
    for path in files:
        raw = path.read_bytes()
        assert not any(form in raw for form in forms), f"{path} holds the content key"
    for published in (demo.data_dir / "media").rglob("*"):
        if published.is_file():
            assert key not in published.read_bytes()
    kek = demo.data_dir / ".secrets/key-encryption-key"
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    assert stat.S_IMODE(kek.parent.stat().st_mode) == 0o700


def test_a_token_for_another_title_gets_no_key(demo: EncryptedDemo) -> None:
    secret = (demo.data_dir / ".secrets/token-secret").read_bytes()
    status, _ = license_keys(demo, issue_token(secret, "another-title", 60))
    assert status == 403


def test_the_player_page_is_sent_with_no_referrer(demo: EncryptedDemo) -> None:
    page = fetch(demo.player)
    assert page.status == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert demo.token.encode() not in page.body  # play.js reads it from the address, not the HTML


def test_ingest_with_encryption_and_no_key_encryption_key_stores_nothing(
    tmp_path: Path, make_master: Callable[..., Path], cli_env: dict[str, str]
) -> None:
    master = make_master("master-360p-4s.mp4", seconds=4, size="640x360")
    result = run_cli("ingest", str(master), "--encryption", "cenc", env=cli_env)
    assert result.returncode == 1
    assert result.stderr.startswith("vodpipe: error: an encrypted title needs VODPIPE_KEY_ENCRYPTION_KEY")
    assert not Path(cli_env["VODPIPE_DATA_DIR"], "catalog").exists()


def test_an_encrypted_demo_on_port_0_is_refused_before_any_work(cli_env: dict[str, str]) -> None:
    result = run_cli("demo", "--encrypt", "--port", "0", env=cli_env)
    assert result.returncode == 1
    assert result.stderr == (
        "vodpipe: error: an encrypted demo needs a fixed --port: its manifests name the license URL\n"
    )
    assert not Path(cli_env["VODPIPE_DATA_DIR"]).exists()


def test_check_takes_an_identity_key_uri_when_no_license_server_is_named(
    encrypted_demo: Callable[[str], EncryptedDemo],
) -> None:
    """An HLS cenc title signalled for Shaka only (KEYFORMAT="identity", the raw-key URI): the
    checker fetches the key there, with the token, and decodes."""
    demo = encrypted_demo("cenc")
    version = demo.hls.split("/")[-2]
    # A copy under another title's folder, so the demo title's newest version (the one its player
    # page plays) stays the demo's own; the keys (and the token's title) are the demo's.
    copy = demo.data_dir / "media" / f"{demo.title}-identity" / version
    shutil.copytree(demo.data_dir / "media" / demo.title / version, copy, dirs_exist_ok=True)
    for playlist in copy.rglob("*.m3u8"):
        lines = playlist.read_text().splitlines(keepends=True)
        playlist.write_text("".join(line for line in lines if 'KEYFORMAT="org.w3.clearkey"' not in line))
    url = demo.hls.replace(f"/{demo.title}/", f"/{demo.title}-identity/")
    report = check(url, demo.token)
    assert report.errors == []
    licensed = [f for f in report.findings if f.rule == "license"]
    assert len(licensed) == 3
    assert all(f.ok and "/license/aes128/" in f.url for f in licensed)
    refused = check(url, "not-a-token")
    assert any(
        f.rule == "license" and "identity key URI gave no key (HTTP 401)" in f.detail for f in refused.errors
    )
