"""An :class:`~storage.base.ObjectStore` on any S3-compatible service (AWS S3, MinIO) via boto3.

Large files go through boto3's transfer manager (multipart above ``multipart_threshold``);
transient failures (connection refused, timeouts, 5xx, throttling) are retried by botocore's
``standard`` or ``adaptive`` retry mode, and what still fails is a ``StoreUnavailableError``.
Compare-and-swap uses S3's conditional writes: ``If-Match`` with the ETag that was read, or
``If-None-Match: *`` to create; S3 answers 412 (or 409 for a race in flight) to the loser.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any, Literal

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    HTTPClientError,
    NoCredentialsError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from storage.base import STREAM_CHUNK, ObjectInfo, validate_key
from vodpipe.errors import ObjectNotFoundError, StorageError, StoreUnavailableError, WriteConflictError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from pathlib import Path

    from mypy_boto3_s3.client import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_CONFLICT = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}
_TRANSIENT = {"SlowDown", "ServiceUnavailable", "RequestTimeout", "Throttling", "InternalError"}
_UNREACHABLE = (BotoConnectionError, HTTPClientError, ConnectionClosedError, ResponseStreamingError)


@dataclass(frozen=True)
class S3Config:
    """Where the bucket is and how to talk to it. Credentials left ``None`` come from boto3's
    own chain (``AWS_*`` variables, ``~/.aws``, an instance role)."""

    bucket: str
    endpoint_url: str | None = None  # MinIO and other S3-compatible stores
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)  # never printed or logged
    multipart_threshold: int = 8 << 20
    retry_mode: Literal["standard", "adaptive"] = "standard"  # adaptive adds client-side rate limiting
    max_attempts: int = 5  # the first attempt included (botocore's total_max_attempts)
    connect_timeout: float = 5
    read_timeout: float = 30


@contextlib.contextmanager
def _translated(key: str) -> Iterator[None]:
    """boto3's exceptions become the product's: not found, conflict, unavailable, or other."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _NOT_FOUND:
            raise ObjectNotFoundError(f"no object at {key}") from None
        if code in _CONFLICT:
            raise WriteConflictError(f"{key} changed since it was read ({code})") from None
        if status >= 500 or code in _TRANSIENT:
            raise StoreUnavailableError(f"S3 store unavailable for {key}: {code} (HTTP {status})") from None
        raise StorageError(f"S3 refused {key}: {code}: {error.get('Message', '')}".rstrip(": ")) from None
    except NoCredentialsError:
        raise StorageError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except _UNREACHABLE as exc:
        raise StoreUnavailableError(f"S3 store unreachable for {key}: {exc}") from None
    except BotoCoreError as exc:
        raise StorageError(f"S3 request for {key} failed: {exc}") from None


def _unquote(etag: str) -> str:
    return etag.strip('"')


class S3Store:
    """An :class:`~storage.base.ObjectStore` over one bucket."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        botocore_config = Config(
            region_name=config.region,
            retries={"mode": config.retry_mode, "total_max_attempts": config.max_attempts},
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            # Path-style URLs for custom endpoints: MinIO and most S3-compatible stores expect them.
            s3={"addressing_style": "path" if config.endpoint_url else "auto"},
        )
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint_url,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            config=botocore_config,
        )
        self.transfer = TransferConfig(
            multipart_threshold=config.multipart_threshold,
            multipart_chunksize=config.multipart_threshold,
            max_concurrency=4,
        )

    def _type(self, key: str, content_type: str | None) -> str:
        return content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        with _translated(validate_key(key)):
            if len(data) >= self.config.multipart_threshold:
                self.client.upload_fileobj(
                    io.BytesIO(data),
                    self.bucket,
                    key,
                    ExtraArgs={"ContentType": self._type(key, content_type)},
                    Config=self.transfer,
                )
            else:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=self._type(key, content_type)
                )
        return self.stat(key)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        if not path.is_file():  # as LocalStore does: the caller's mistake, not the store's
            raise FileNotFoundError(f"no file at {path}")
        with _translated(validate_key(key)):
            # The transfer manager switches to a multipart upload above the threshold; S3 makes
            # the object visible only when the upload completes, so writes stay atomic.
            self.client.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={"ContentType": self._type(key, content_type)},
                Config=self.transfer,
            )
        return self.stat(key)

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> ObjectInfo:
        condition: dict[str, Any] = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": f'"{etag}"'}
        with _translated(validate_key(key)):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=self._type(key, content_type), **condition
            )
        return self.stat(key)

    def get_bytes(self, key: str) -> bytes:
        return self.read_versioned(key)[0]

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        with _translated(validate_key(key)):
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            with contextlib.closing(response["Body"]) as body:
                return body.read(), _unquote(response["ETag"])

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return b"".join(self.get_stream(key, start, end))

    def get_stream(self, key: str, start: int = 0, end: int | None = None) -> Generator[bytes, None, None]:
        # RFC 9110 §14.1.2 byte range, inclusive; "bytes=N-" reads to the end.
        byte_range = f"bytes={start}-{'' if end is None else end}"
        with _translated(validate_key(key)):
            response = self.client.get_object(Bucket=self.bucket, Key=key, Range=byte_range)
        return self._chunks(key, response["Body"])

    def _chunks(self, key: str, body: Any) -> Generator[bytes, None, None]:
        with contextlib.closing(body), _translated(key):
            yield from body.iter_chunks(STREAM_CHUNK)

    def download(self, key: str, path: Path) -> None:
        with _translated(validate_key(key)):
            self.client.download_file(self.bucket, key, str(path), Config=self.transfer)

    def stat(self, key: str) -> ObjectInfo:
        with _translated(validate_key(key)):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            etag=_unquote(head["ETag"]),
            last_modified=head["LastModified"].astimezone(UTC),  # botocore's tzutc() is not datetime.UTC
            content_type=head.get("ContentType") or "application/octet-stream",
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFoundError:
            return False
        return True

    def list(self, prefix: str) -> Iterator[str]:
        keys: list[str] = []
        with _translated(prefix or "/"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                keys.extend(item["Key"] for item in page.get("Contents", []))
        return iter(sorted(keys))  # S3 lists in UTF-8 binary order already; sorted() states the contract

    def delete(self, key: str) -> None:
        with _translated(validate_key(key)):
            self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 deletes are idempotent

    def local_path(self, key: str) -> Path | None:
        return None
