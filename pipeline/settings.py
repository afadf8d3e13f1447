"""Settings, read once from ``VODPIPE_*`` environment variables into one typed object.

Nothing else in vodpipe reads the environment.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from encoder.ladder import CODECS
from ingest.auth import ApiKeys
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

PREFIX = "VODPIPE_"
T = TypeVar("T")


def _fraction(value: str) -> Fraction:
    result = Fraction(value)
    if not 1 <= result <= 30:
        raise ValueError("must be between 1 and 30 seconds")
    return result


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("must be a TCP port number")
    return port


def _positive_seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 24 * 3600:
        raise ValueError("must be a positive number of seconds")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be positive")
    return number


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError("use 1 (on) or 0 (off)")
    return value == "1"


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _access_log(value: str) -> str:
    if value not in ("off", "stderr") and not Path(value).parent.is_dir():
        raise ValueError("must be off, stderr, or a file in an existing folder")
    return value


def _part_size(value: str) -> int:
    size = int(value)
    if size < 5 << 20:  # S3 refuses multipart parts under 5 MiB (all but the last)
        raise ValueError("must be at least 5242880 bytes (5 MiB), S3's smallest part")
    return size


def _attempts(value: str) -> int:
    attempts = int(value)
    if not 1 <= attempts <= 20:
        raise ValueError("must be between 1 and 20")
    return attempts


def _bitrate(value: str) -> int:
    rate = int(value)
    if not 1_000 <= rate <= 1_000_000_000:
        raise ValueError("must be a bit rate from 1000 to 1000000000 bits per second")
    return rate


def parse_codecs(value: str) -> tuple[str, ...]:
    """``h264,av1`` as a tuple of known codecs, repeats dropped."""
    codecs = tuple(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))
    if not codecs or any(c not in CODECS for c in codecs):
        raise ValueError(f"must be a comma-separated list of {', '.join(CODECS)}")
    return codecs


def _factor(value: str) -> float:
    factor = float(value)
    if not 0.1 <= factor <= 2:
        raise ValueError("must be a number from 0.1 to 2")
    return factor


def _vmaf(value: str) -> float:
    number = float(value)
    if not 0 < number <= 100:
        raise ValueError("must be a VMAF score above 0 and at most 100")
    return number


def _nonnegative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


class Secret:
    """A secret setting's bytes. ``repr`` and ``str`` never show them, so neither can a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def key_256(value: str) -> Secret:
    """32 bytes written as 64 hex digits or as base64 (standard or URL-safe, padding optional)."""
    text = value.strip()
    try:
        if len(text) == 64:
            raw = bytes.fromhex(text)
        else:
            padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
            raw = base64.b64decode(padded, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("must be 32 bytes as 64 hex digits or base64") from None
    if len(raw) != 32:
        raise ValueError(f"must be 32 bytes as 64 hex digits or base64 (got {len(raw)} bytes)")
    return Secret(raw)


def _secret_text(value: str) -> Secret:
    return Secret(value.encode())


def _token_secret(value: str) -> Secret:
    # RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (32 bytes).
    raw = value.encode()
    if len(raw) < 32:
        raise ValueError("must be at least 32 bytes (RFC 7518 §3.2); e.g. `openssl rand -hex 32`")
    return Secret(raw)


def _signing_key(value: str) -> Secret:
    # As long as the HMAC-SHA256 output at least (RFC 2104 §3: shorter keys weaken it).
    raw = value.encode()
    if len(raw) < 32:
        raise ValueError("must be at least 32 bytes; e.g. `openssl rand -hex 32`")
    return Secret(raw)


@dataclass(frozen=True)
class Setting:
    """How one field is read: its parser, the line for the README's table, whether it is secret."""

    parse: Callable[[str], Any]
    doc: str
    secret: bool = False


def _setting(default: T, parse: Callable[[str], Any], doc: str, *, secret: bool = False) -> T:
    # A secret is left out of repr(), so printing or logging the settings never shows it.
    return field(default=default, repr=not secret, metadata={"setting": Setting(parse, doc, secret)})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(Path("var"), Path, "Root of the local object store (embedded default).")
    ladder: Path | None = _setting(None, Path, "TOML file replacing the default bitrate ladder.")
    video_codecs: tuple[str, ...] = _setting(
        ("h264",), parse_codecs, "Video codecs of the ladder: `h264`, `av1`, `hevc`, comma-separated."
    )
    av1_bitrate_factor: float = _setting(0.6, _factor, "An AV1 rung's bitrate over its H.264 twin's.")
    hevc_bitrate_factor: float = _setting(0.75, _factor, "An HEVC rung's bitrate over its H.264 twin's.")
    ladder_mode: str = _setting(
        "fixed",
        _choice("fixed", "per-title"),
        "`fixed` (the ladder as written) or `per-title` (rungs chosen on the title's measured hull).",
    )
    per_title_top_vmaf: float = _setting(
        95.0, _vmaf, "Per-title: the top rung is the cheapest trial reaching this VMAF (or the cap)."
    )
    per_title_vmaf_step: float = _setting(6.0, _vmaf, "Per-title: least VMAF between consecutive rungs.")
    per_title_max_bitrate: int = _setting(8_000_000, _bitrate, "Per-title: cap on the top rung, b/s.")
    per_title_min_bitrate: int = _setting(
        150_000, _bitrate, "Per-title: the bottom rung is the cheapest trial at or above this b/s."
    )
    per_title_min_vmaf: float = _setting(
        45.0, _vmaf, "Per-title: the bottom rung is also the cheapest trial at or above this VMAF."
    )
    per_title_min_height: int = _setting(
        0, _nonnegative, "Per-title: resolutions below this short side are not tried (0: all)."
    )
    quality: str = _setting(
        "auto",
        _choice("auto", "on", "off"),
        "Measure every rung's VMAF/PSNR against the master after encoding; `auto`: per-title titles only.",
    )
    quality_subsample: int = _setting(5, _positive, "Quality report: score every Nth frame.")
    quality_ssim: bool = _setting(False, _flag, "1: the quality report includes SSIM (about 4x slower).")
    quality_phone: bool = _setting(
        False, _flag, "1: the quality report also scores rungs up to 360p with VMAF's phone model."
    )
    segment_seconds: Fraction = _setting(Fraction(4), _fraction, "Target segment duration, seconds.")
    start_bitrate: int = _setting(
        2_000_000, _bitrate, "HLS: list first (players start there) the variant nearest this b/s."
    )
    ffmpeg: str | None = _setting(None, str, "FFmpeg executable; default: the imageio-ffmpeg build.")
    scratch_dir: Path | None = _setting(None, Path, "Where encodes run; default: the system temp dir.")
    host: str = _setting("127.0.0.1", str, "Address the origin listens on.")
    port: int = _setting(8080, _port, "Port the origin listens on.")
    public_url: str | None = _setting(None, str, "Base URL printed for players; default http://HOST:PORT.")
    manifest_max_age: int = _setting(10, _nonnegative, "Browser max-age of manifests, seconds.")
    manifest_edge_max_age: int = _setting(60, _nonnegative, "Edge (CDN-Cache-Control) max-age of manifests.")
    origin_cache_bytes: int = _setting(
        64 << 20, _nonnegative, "Origin: bytes of objects, headers and compressed manifests kept in memory."
    )
    origin_disk_cache_bytes: int = _setting(
        2 << 30,
        _nonnegative,
        "Origin over S3: bytes of objects kept on local disk (SCRATCH_DIR/origin-cache).",
    )
    access_log: str = _setting(
        "off", _access_log, "Origin access log, one JSON line per response: `off`, `stderr` or a file path."
    )
    metrics: bool = _setting(True, _flag, "Origin: 1 serves Prometheus metrics at /metrics; 0: none kept.")
    metrics_token: Secret | None = _setting(
        None, _secret_text, "When set, /metrics wants `Authorization: Bearer <token>`. Secret.", secret=True
    )
    broker_url: str | None = _setting(None, str, "Celery broker; unset runs jobs in-process (eager).")
    result_backend: str | None = _setting(None, str, "Celery result backend; default: the broker URL.")
    chunk_seconds: float = _setting(
        48.0, _positive_seconds, "Chunk length for chunked encoding, rounded to whole GOPs."
    )
    encode_workers: int = _setting(
        0, _nonnegative, "Workers the planner counts on; 0 asks the broker which are up."
    )
    worker_concurrency: int = _setting(0, _nonnegative, "Tasks a worker runs at once; 0: one per 4 cores.")
    ffmpeg_threads: int = _setting(0, _nonnegative, "Threads per FFmpeg on a worker; 0: cores / concurrency.")
    task_time_limit: int = _setting(4 * 3600, _positive, "Hard time limit of one task, seconds.")
    visibility_timeout: int = _setting(
        5 * 3600, _positive, "Seconds before Redis redelivers a task whose worker died."
    )
    players_dir: Path | None = _setting(None, Path, "Folder with the npm players (default: player_test).")
    store: str = _setting("local", _choice("local", "s3"), "Object store: `local` (DATA_DIR) or `s3`.")
    s3_bucket: str | None = _setting(None, str, "S3 bucket (required with STORE=s3).")
    s3_endpoint_url: str | None = _setting(None, str, "S3-compatible endpoint (MinIO...); default AWS.")
    s3_region: str | None = _setting(None, str, "S3 region; default: boto3's (AWS_DEFAULT_REGION).")
    s3_access_key_id: str | None = _setting(None, str, "S3 access key; default: boto3's chain (AWS_*).")
    s3_secret_access_key: Secret | None = _setting(
        None, _secret_text, "S3 secret key; default: boto3's chain. Secret.", secret=True
    )
    s3_multipart_threshold: int = _setting(8 << 20, _part_size, "Bytes above which uploads are multipart.")
    s3_retry_mode: str = _setting("standard", _choice("standard", "adaptive"), "botocore retry mode.")
    s3_max_attempts: int = _setting(5, _attempts, "Attempts per S3 request, the first included.")
    key_encryption_key: Secret | None = _setting(
        None, key_256, "Key-encryption key of the key store: 32 bytes, hex or base64. Secret.", secret=True
    )
    token_secret: Secret | None = _setting(
        None, _token_secret, "HS256 key signing entitlement tokens, at least 32 bytes. Secret.", secret=True
    )
    key_policy: str = _setting(
        "single", _choice("single", "per-class"), "Keys of an encrypted title: one, or one per track class."
    )
    hls_aes128: bool = _setting(
        False, _flag, "1: encrypted titles also get HLS METHOD=AES-128 variants (master-aes128.m3u8)."
    )
    license_url: str | None = _setting(
        None, str, "Base URL of the license server written into encrypted manifests; default PUBLIC_URL."
    )
    url_signing_key: Secret | None = _setting(
        None, _signing_key, "HMAC-SHA256 key of signed media URLs, at least 32 bytes. Secret.", secret=True
    )
    signed_urls: bool = _setting(
        False, _flag, "1: every title needs signed URLs; 0: only titles ingested with --signed-urls."
    )
    api_port: int = _setting(8090, _port, "Port the upload and catalog API (`vodpipe api`) listens on.")
    api_keys: ApiKeys | None = _setting(
        None,
        ApiKeys.parse,
        "API keys of content teams: `team:key,...`, keys of 16+ characters. Secret.",
        secret=True,
    )
    upload_max_size: int = _setting(1 << 40, _positive, "Largest master an upload may declare, bytes.")
    api_key: str | None = _setting(
        None, str, "The API key `vodpipe upload` and `vodpipe status --api` send. Secret.", secret=True
    )
    upload_state: Path | None = _setting(
        None, Path, "Where `vodpipe upload` remembers unfinished uploads; default ~/.cache/vodpipe/."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = PREFIX + f.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            setting: Setting = f.metadata["setting"]
            try:
                values[f.name] = setting.parse(raw)
            except ValueError as exc:
                shown = name if setting.secret else f"{name}={raw!r}"  # a secret is never echoed
                raise ConfigError(f"{shown} is invalid: {exc}") from None
        return cls(**values)

    def ffmpeg_exe(self) -> str:
        if self.ffmpeg:
            return self.ffmpeg
        import imageio_ffmpeg

        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
        return exe

    def worker_slots(self, cores: int) -> tuple[int, int]:
        """Concurrency and FFmpeg threads of a worker on a host with ``cores`` cores.

        An encode already uses every core it is given, so a worker runs one task per four cores
        (at least one) and splits the cores among them.
        """
        concurrency = self.worker_concurrency or max(1, cores // 4)
        threads = self.ffmpeg_threads or max(1, cores // concurrency)
        return concurrency, threads

    def origin_disk_cache_dir(self) -> Path:
        return (self.scratch_dir or Path(tempfile.gettempdir())) / "origin-cache"

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def license_base_url(self) -> str:
        """Where players find the license routes: the origin, unless a license server is named."""
        return (self.license_url or self.base_url()).rstrip("/")


def settings_table() -> str:
    """The README's settings table, generated from the fields so the two cannot drift."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        setting: Setting = f.metadata["setting"]
        shown = ",".join(f.default) if isinstance(f.default, tuple) else f.default
        default = "*unset*" if f.default is None else f"`{shown}`"
        rows.append(f"| `{PREFIX}{f.name.upper()}` | {default} | {setting.doc} |")
    return "\n".join(rows)


@functools.cache
def _from_env() -> Settings:
    return Settings.from_env()


_in_use: list[Settings] = []


def current_settings() -> Settings:
    """The process's settings: read from the environment on first use, unless a command runs
    in-process work with settings of its own (``in_use``)."""
    return _in_use[-1] if _in_use else _from_env()


@contextmanager
def in_use(settings: Settings) -> Iterator[Settings]:
    """Run in-process work (eager Celery tasks) with ``settings``: e.g. the demo's local secrets,
    which a worker process behind a broker gets from its own environment instead."""
    _in_use.append(settings)
    try:
        yield settings
    finally:
        _in_use.pop()
