"""The edge's nginx configuration: what each directive must say, bad settings, and ``nginx -t``."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from origin.edge_config import EdgeSettings, edge_config, upstream_server
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

ORIGINS = ("http://127.0.0.1:9001", "http://10.0.0.2:8000")


def _media_location(text: str) -> str:
    match = re.search(r"location /media/ \{\n(.*?)\n        \}", text, re.S)
    assert match, text
    return match.group(1)


def test_upstream_lists_every_origin_with_keepalive() -> None:
    text = edge_config(EdgeSettings(ORIGINS))
    upstream = re.search(r"upstream vodpipe_origins \{(.*?)\}", text, re.S)
    assert upstream
    servers = re.findall(r"server (\S+) max_fails", upstream.group(1))
    assert servers == ["127.0.0.1:9001", "10.0.0.2:8000"]
    assert "keepalive 64;" in upstream.group(1)
    assert "proxy_http_version 1.1;" in text


def test_the_cache_follows_the_origin_and_coalesces_and_serves_stale() -> None:
    media = _media_location(edge_config(EdgeSettings(ORIGINS)))
    assert "proxy_cache vodpipe_edge;" in media
    assert "proxy_cache_valid" not in media  # lifetimes are the origin's Cache-Control
    assert "proxy_ignore_headers" not in media
    assert "proxy_cache_lock on;" in media
    assert "proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;" in media
    assert "proxy_cache_background_update on;" in media
    assert "add_header X-Cache-Status $upstream_cache_status always;" in media


def test_the_cache_key_is_the_raw_path_without_the_query() -> None:
    text = edge_config(EdgeSettings(ORIGINS))
    assert "proxy_cache_key $edge_path;" in _media_location(text)
    assert "map $request_uri $edge_path {\n        ~^(?<path>[^?]*) $path;" in text


def test_a_ranged_miss_asks_the_origin_for_the_whole_object() -> None:
    media = _media_location(edge_config(EdgeSettings(ORIGINS)))
    assert 'proxy_set_header Range "";' in media
    assert 'proxy_set_header If-Range "";' in media
    # proxy_set_header is not inherited by a level that sets its own: the others are repeated
    assert 'proxy_set_header Connection "";' in media


def test_cache_path_and_run_dir() -> None:
    text = edge_config(
        EdgeSettings(ORIGINS, cache_dir="/c", max_size="2g", inactive="1d", run_dir="/run/e", user="edge")
    )
    assert (
        "proxy_cache_path /c levels=1:2 keys_zone=vodpipe_edge:64m\n"
        "        max_size=2g inactive=1d use_temp_path=off;"
    ) in text
    for line in ("daemon off;", "user edge;", "pid /run/e/nginx.pid;", "error_log /run/e/error.log warn;"):
        assert f"\n{line}\n" in text
    assert "proxy_temp_path /run/e/proxy_temp;" in text
    assert "access_log /run/e/access.log vodpipe_edge;" in text


def test_without_run_dir_nginx_defaults_apply() -> None:
    text = edge_config(EdgeSettings(ORIGINS))
    assert "daemon off;" not in text
    assert "\npid " not in text
    assert "proxy_temp_path" not in text


def test_an_unreachable_origin_is_a_503_with_retry_after() -> None:
    text = edge_config(EdgeSettings(ORIGINS))
    assert "error_page 502 504 = @origin_unavailable;" in text
    block = text.split("location @origin_unavailable {", 1)[1]
    assert "add_header Retry-After 5 always;" in block
    assert "return 503 '" in block
    assert "default_type application/problem+json;" in block


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://origin.example/", "origin.example:80"),
        ("http://[::1]:81", "[::1]:81"),
    ],
    ids=["ipv4", "name-default-port", "ipv6"],
)
def test_upstream_server(url: str, server: str) -> None:
    assert upstream_server(url) == server


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (EdgeSettings(()), "at least one --origin"),
        (EdgeSettings(("https://o:1",)), "must be http://host[:port]"),
        (EdgeSettings(("http://o:1/media",)), "no path, query or user"),
        (EdgeSettings(("http://o:99999",)), "invalid port"),
        (EdgeSettings(ORIGINS, max_size="10 g"), "--max-size '10 g' is not an nginx size"),
        (EdgeSettings(ORIGINS, inactive="soon"), "--inactive 'soon'"),
        (EdgeSettings(ORIGINS, listen="0"), "--listen '0'"),
        (EdgeSettings(ORIGINS, listen="a b:80"), "--listen 'a b:80'"),
        (EdgeSettings(ORIGINS, workers="0"), "--workers '0'"),
        (EdgeSettings(ORIGINS, cache_dir="cache"), "'cache' must be an absolute path"),
        (EdgeSettings(ORIGINS, run_dir="/tmp/a;b"), "'/tmp/a;b' must be an absolute path"),
    ],
    ids=[
        "no-origin", "https", "path", "port", "size", "inactive", "listen-zero", "listen-space",
        "workers", "relative-cache", "semicolon",
    ],
)  # fmt: skip
def test_bad_settings_are_one_line_errors(settings: EdgeSettings, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        edge_config(settings)


@pytest.mark.integration
def test_nginx_accepts_the_generated_configuration(tmp_path: Path) -> None:
    exe = shutil.which("nginx")
    if exe is None:
        pytest.fail("nginx is not installed (apt-get install nginx; see .ci/run)")
    settings = EdgeSettings(
        ORIGINS, listen="127.0.0.1:18080", cache_dir=str(tmp_path / "cache"), run_dir=str(tmp_path)
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(edge_config(settings))
    done = subprocess.run([exe, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    broken = tmp_path / "broken.conf"  # the check can fail: a directive nginx does not know
    broken.write_text(conf.read_text().replace("proxy_cache_lock on;", "proxy_cache_lock maybe;"))
    done = subprocess.run([exe, "-t", "-c", str(broken), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
