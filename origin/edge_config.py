"""The nginx configuration of an edge cache tier in front of vodpipe origins: settings in, text out.

The origin already says how long each object may be kept (``origin/cache_policy.py``): segments
are immutable for a year, manifests live briefly and may be served stale while revalidating or
while the origin errs. The edge therefore sets no lifetimes of its own (no ``proxy_cache_valid``):
nginx follows the origin's ``Cache-Control`` (RFC 9111 §5.2.2), including ``stale-while-revalidate``
and ``stale-if-error`` (RFC 5861). What the edge adds is what an origin cannot do for itself:
keep objects close to viewers, turn N concurrent misses into one origin request, keep serving
when the origin is gone, and answer byte ranges from whole cached objects.

nginx does not read ``CDN-Cache-Control`` (RFC 9213); it uses ``Cache-Control``, so manifests
live at the edge for the origin's browser ``max-age``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from vodpipe.errors import ConfigError

LOG_FORMAT = "vodpipe_edge"
ZONE = "vodpipe_edge"
UPSTREAM = "vodpipe_origins"
DEFAULT_CACHE_DIR = "/var/cache/vodpipe-edge"
DEFAULT_ACCESS_LOG = "/var/log/nginx/vodpipe-edge.access.log"
RETRY_AFTER = 5  # seconds, as the origin's own 503s (RFC 9110 §10.2.3)

_SIZE = re.compile(r"[1-9][0-9]*[kKmMgG]?")
_TIME = re.compile(r"[1-9][0-9]*(ms|s|m|h|d|w|M|y)?")
_LISTEN = re.compile(r"(?:(?P<host>[0-9.]+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(?P<port>[0-9]{1,5})")


@dataclass(frozen=True)
class EdgeSettings:
    """One edge: the origins it fronts and the cache it keeps.

    ``run_dir`` puts the pid file, error log, access log and temporary files under one folder, so
    that nginx can run without root (tests, a user's machine); without it, nginx's packaged
    defaults apply.
    """

    origins: tuple[str, ...]
    listen: str = "8080"
    cache_dir: str = DEFAULT_CACHE_DIR
    max_size: str = "10g"
    inactive: str = "7d"
    keys_zone_size: str = "64m"  # one megabyte holds about 8,000 keys
    workers: str = "auto"
    run_dir: str | None = None
    access_log: str | None = None
    user: str | None = None


def upstream_server(url: str) -> str:
    """``http://host:port`` -> ``host:port``; anything else is a one-line error."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(f"origin {url!r} must be http://host[:port] (the edge talks plain HTTP to origins)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"origin {url!r} must be http://host[:port] with no path, query or user")
    try:
        port = parts.port or 80
    except ValueError:
        raise ConfigError(f"origin {url!r} has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def _check(settings: EdgeSettings) -> None:
    if not settings.origins:
        raise ConfigError("an edge needs at least one --origin http://host:port")
    for name, value in (("--max-size", settings.max_size), ("keys zone size", settings.keys_zone_size)):
        if not _SIZE.fullmatch(value):
            raise ConfigError(f"{name} {value!r} is not an nginx size such as 10g, 512m or 100k")
    if not _TIME.fullmatch(settings.inactive):
        raise ConfigError(f"--inactive {settings.inactive!r} is not an nginx time such as 7d or 12h")
    listen = _LISTEN.fullmatch(settings.listen)
    if listen is None or not 0 < int(listen.group("port")) < 65536:
        raise ConfigError(f"--listen {settings.listen!r} must be PORT or HOST:PORT")
    if not (settings.workers == "auto" or (settings.workers.isdigit() and int(settings.workers) > 0)):
        raise ConfigError(f"--workers {settings.workers!r} must be a positive number or auto")
    for path in (settings.cache_dir, settings.run_dir, settings.access_log):
        if path is not None and (not path.startswith("/") or any(c in path for c in " ;{}'\"\\")):
            raise ConfigError(f"{path!r} must be an absolute path without spaces, quotes or ;{{}}")


def _main(settings: EdgeSettings) -> str:
    lines = ["daemon off;" if settings.run_dir else "", f"worker_processes {settings.workers};"]
    if settings.user:
        lines.append(f"user {settings.user};")
    if settings.run_dir:
        lines += [f"pid {settings.run_dir}/nginx.pid;", f"error_log {settings.run_dir}/error.log warn;"]
    lines.append("events { worker_connections 4096; }")
    return "\n".join(line for line in lines if line) + "\n"


def _temp_paths(run_dir: str | None) -> str:
    if run_dir is None:
        return ""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f"    {kind}_temp_path {run_dir}/{kind}_temp;\n" for kind in kinds)


def _headers(indent: str, *extra: str) -> str:
    # proxy_set_header is inherited only by a level that sets none itself: each location says all.
    headers = (
        'Connection ""',  # keeps the HTTP/1.1 connection to the origin open for the next request
        "Host $host",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        *extra,
    )
    return "".join(f"{indent}proxy_set_header {header};\n" for header in headers)


def edge_config(settings: EdgeSettings) -> str:
    """The whole nginx.conf (main context included) for one edge."""
    _check(settings)
    servers = "".join(
        f"        server {upstream_server(url)} max_fails=3 fail_timeout=5s;\n" for url in settings.origins
    )
    access_log = settings.access_log or (
        f"{settings.run_dir}/access.log" if settings.run_dir else DEFAULT_ACCESS_LOG
    )
    problem = (
        '{"type":"https://vodpipe.dev/problems/origin-unavailable","title":"Origin unavailable",'
        '"status":503,"detail":"no origin answered and the edge holds no copy; retry shortly"}'
    )
    return f"""# vodpipe edge tier: an nginx cache in front of vodpipe origins (vodpipe edge-config).
{_main(settings)}
http {{
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    keepalive_requests 10000;
    server_tokens off;
    gzip off;  # the origin compresses manifests once; the edge stores and forwards its bytes
{_temp_paths(settings.run_dir)}
    # One JSON line per request: what the viewer got and what (if anything) the origin was asked.
    log_format {LOG_FORMAT} escape=json '{{"time":"$time_iso8601","method":"$request_method",'
        '"uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,"range":"$http_range",'
        '"cache":"$upstream_cache_status","upstream":"$upstream_addr",'
        '"upstream_status":"$upstream_status","upstream_ms":"$upstream_response_time"}}';
    access_log {access_log} {LOG_FORMAT};

    # The cache key: the path as the client sent it, without its query. Not nginx's decoded,
    # slash-merged $uri: the raw path is what proxy_pass forwards and what the origin maps to a
    # key, so a request the origin refuses (/media/t/v1/seg%2D1.m4s: 404) is never stored under a
    # real object's key. The query (CMCD, cache busters) must not fragment the cache; signed URLs
    # are safe without it, as the origin answers them Cache-Control: private, which nginx never
    # stores, so every signed request is checked by the origin.
    map $request_uri $edge_path {{
        ~^(?<path>[^?]*) $path;
    }}

    upstream {UPSTREAM} {{
{servers}        keepalive 64;  # reused HTTP/1.1 connections to the origins
    }}

    # levels=1:2 spreads files over 4,096 folders; use_temp_path=off writes each object straight
    # into the cache folder (no copy between file systems); inactive drops what nobody asked for.
    proxy_cache_path {settings.cache_dir} levels=1:2 keys_zone={ZONE}:{settings.keys_zone_size}
        max_size={settings.max_size} inactive={settings.inactive} use_temp_path=off;

    server {{
        listen {settings.listen} reuseport;

        proxy_http_version 1.1;
        proxy_connect_timeout 3s;
        proxy_send_timeout 15s;
        proxy_read_timeout 15s;
        proxy_next_upstream error timeout http_502 http_504;
        proxy_next_upstream_tries 2;
        error_page 502 504 = @origin_unavailable;

        location /media/ {{
            proxy_pass http://{UPSTREAM};
            proxy_cache {ZONE};
            proxy_cache_key $edge_path;
            # Lifetimes come from the origin's Cache-Control alone (no *_cache_valid override).
            proxy_cache_revalidate on;  # an expired manifest is revalidated with its ETag (304)
            # N viewers missing one object at once make one origin request; the rest wait.
            proxy_cache_lock on;
            proxy_cache_lock_timeout 15s;
            proxy_cache_lock_age 15s;
            # Serve what is cached while the origin fails or while one request refreshes it.
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            # Ranges: nginx drops Range/If-Range towards the origin when caching, so a ranged miss
            # fetches and stores the whole object; ranges are then cut from the cached copy.
{_headers("            ", 'Range ""', 'If-Range ""')}            proxy_force_ranges on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}

        # Everything else (player pages, license requests, health) passes through uncached.
        location / {{
            proxy_pass http://{UPSTREAM};
{_headers("            ")}        }}

        location @origin_unavailable {{
            default_type application/problem+json;
            add_header Retry-After {RETRY_AFTER} always;
            add_header Cache-Control "no-store" always;
            add_header Access-Control-Allow-Origin "*" always;
            add_header X-Cache-Status $upstream_cache_status always;
            return 503 '{problem}';
        }}
    }}
}}
"""
