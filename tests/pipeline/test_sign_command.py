"""``vodpipe sign``, the signing key setting, and the access record ``--signed-urls`` writes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.catalog import TitleRecord
from ingest.service import IngestOutcome
from origin.access import access_key, read_signed_urls
from origin.signing import verify
from pipeline import cli
from pipeline.settings import Settings
from storage.local import LocalStore
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

KEY = "signing-key-for-command-tests-32b"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    value = Settings.from_env({"VODPIPE_DATA_DIR": str(tmp_path), "VODPIPE_URL_SIGNING_KEY": KEY})
    monkeypatch.setattr(cli, "current_settings", lambda: value)
    return value


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_sign_prints_one_signed_url(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    before = int(time.time())
    status, out, err = run(capsys, "sign", "http://cdn.example/media/demo/v1/master.m3u8", "--ttl", "60")
    assert (status, err) == (0, "")
    assert out.count("\n") == 1
    parts = urlsplit(out.strip())
    assert parts.path == "/media/demo/v1/master.m3u8"
    query = parse_qs(parts.query)
    grant = verify(KEY.encode(), parts.path, query, time.time())
    assert grant.prefix == "/media/demo/"
    assert before + 60 <= grant.expires <= int(time.time()) + 60


def test_sign_with_a_prefix(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    url = "http://h/media/demo/v1/video/720p/seg-00001.m4s"
    status, out, _ = run(capsys, "sign", url, "--prefix", "/media/demo/v1/video/")
    assert status == 0
    assert parse_qs(urlsplit(out).query)["prefix"] == ["/media/demo/v1/video/"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["http://h/keys/k.json"],
            "only URLs under /media/TITLE/ (or a /play/TITLE page) are signed, not '/keys/k.json'",
        ),
        (["http://h/media/demo/v1/master.m3u8", "--ttl", "0"], "--ttl must be 1 to 31622400 seconds, not 0"),
        (["not a url"], "not an http(s) URL: 'not a url'"),
    ],
    ids=["outside-media", "ttl", "not-url"],
)
def test_sign_refuses_with_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, "sign", *argv)
    assert (status, out) == (1, "")
    assert err == f"vodpipe: error: {message}\n"


def test_sign_without_a_key_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "current_settings", lambda: Settings(data_dir=tmp_path))
    status, out, err = run(capsys, "sign", "http://h/media/demo/v1/master.m3u8")
    assert (status, out) == (1, "")
    assert (
        err
        == "vodpipe: error: no URL signing key: set VODPIPE_URL_SIGNING_KEY (e.g. `openssl rand -hex 32`)\n"
    )


def test_the_signing_key_is_secret_and_long_enough() -> None:
    settings = Settings.from_env({"VODPIPE_URL_SIGNING_KEY": KEY})
    assert KEY not in repr(settings)
    with pytest.raises(
        ConfigError, match=r"^VODPIPE_URL_SIGNING_KEY is invalid: must be at least 32 bytes"
    ) as e:
        Settings.from_env({"VODPIPE_URL_SIGNING_KEY": "short"})
    assert "short" not in e.value.message
    assert Settings.from_env({"VODPIPE_SIGNED_URLS": "1"}).signed_urls is True


@pytest.mark.parametrize(
    ("flags", "expected"),
    [([], None), (["--signed-urls"], True), (["--no-signed-urls"], False)],
    ids=["unchanged", "signed", "opened"],
)
def test_ingest_records_the_choice_even_for_bytes_already_published(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    expected: bool | None,
) -> None:
    """The record is written before the job (which publishes) runs, and also when nothing is to run."""
    record = TitleRecord("t", "published", "masters/t/x.mp4", "x", "m.mp4", {}, published_version="v1")
    monkeypatch.setattr(cli, "ingest_master", lambda *args: IngestOutcome(record, is_new=False))
    status, out, _ = run(capsys, "ingest", str(tmp_path / "m.mp4"), "--title", "t", *flags)
    assert status == 0
    assert "media/t/v1/master.m3u8" in out
    store = LocalStore(tmp_path)
    if expected is None:
        assert not store.exists(access_key("t"))
    else:
        assert read_signed_urls(store, "t") is expected
