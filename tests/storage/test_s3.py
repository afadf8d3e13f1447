"""What only the S3 store does: multipart uploads, retries through an outage, error mapping."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from storage.s3 import S3Store, _translated
from vodpipe.errors import ObjectNotFoundError, StorageError, StoreUnavailableError, WriteConflictError

if TYPE_CHECKING:
    from pathlib import Path

    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration
PART = 5 << 20  # S3's smallest multipart part, so the test runs under the real service's rules


def test_large_files_upload_in_parts(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.new_store(multipart_threshold=PART)
    source = tmp_path / "big.mp4"
    source.write_bytes(os.urandom(2 * PART + 12345))
    info = store.put_file("masters/t/big.mp4", source)
    # A multipart object's ETag is "<md5 of the part digests>-<parts>" (S3 user guide, "Checking
    # object integrity"); a single PUT's is the content MD5.
    assert info.etag.endswith("-3")
    assert info.size == source.stat().st_size
    assert info.content_type == "video/mp4"
    store.download("masters/t/big.mp4", tmp_path / "back.mp4")
    assert hashlib.sha256((tmp_path / "back.mp4").read_bytes()).digest() == hashlib.sha256(
        source.read_bytes()
    ).digest()
    small = store.put_bytes("masters/t/small", b"x" * 1000)
    assert small.etag == hashlib.md5(b"x" * 1000).hexdigest()  # S3's single-PUT ETag is the MD5


def test_put_bytes_above_the_threshold_is_multipart_too(s3_server: S3Server) -> None:
    store = s3_server.new_store(multipart_threshold=PART)
    data = os.urandom(PART + 1)
    assert store.put_bytes("work/t/r.mp4", data).etag.endswith("-2")
    assert store.get_bytes("work/t/r.mp4") == data


def _count_attempts(store: S3Store, on_failure: Any = None) -> list[str]:
    """Record every failed attempt botocore's retry handler sees (and act on it, if asked)."""
    failures: list[str] = []

    def needs_retry(caught_exception: Exception | None = None, **_: Any) -> None:
        if caught_exception is not None:
            failures.append(type(caught_exception).__name__)
            if on_failure:
                on_failure()

    store.client.meta.events.register("needs-retry.s3", needs_retry)
    return failures


def test_an_outage_is_retried_and_the_write_lands(own_s3_server: S3Server) -> None:
    store = own_s3_server.new_store(max_attempts=4)
    own_s3_server.stop()

    def server_comes_back() -> None:
        if own_s3_server.proc is None:  # after the first refused attempt, not before
            own_s3_server.start()  # same port; moto keeps nothing, so the bucket is made anew
            admin = boto3.session.Session().client(
                "s3",
                endpoint_url=own_s3_server.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            admin.create_bucket(Bucket=store.bucket)

    failures = _count_attempts(store, server_comes_back)
    info = store.put_bytes("catalog/titles/t.json", b"{}")
    assert failures == ["EndpointConnectionError"]
    assert info.size == 2
    assert store.get_bytes("catalog/titles/t.json") == b"{}"


def test_a_lasting_outage_is_a_clear_unavailable_error(own_s3_server: S3Server) -> None:
    store = own_s3_server.new_store(max_attempts=3)
    store.put_bytes("media/t/v1/seg.m4s", b"x")
    own_s3_server.stop()
    failures = _count_attempts(store)
    message = r"S3 store unreachable for media/t/v1/seg\.m4s"
    with pytest.raises(StoreUnavailableError, match=message) as caught:
        store.stat("media/t/v1/seg.m4s")
    assert failures == ["EndpointConnectionError"] * 3  # every attempt was made, then it gave up
    assert caught.value.status == 503
    assert isinstance(caught.value, StorageError)
    assert "testing" not in str(caught.value)  # no credentials in messages


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("NoSuchKey", 404, ObjectNotFoundError),
        ("404", 404, ObjectNotFoundError),  # HEAD answers carry no body, only the status
        ("PreconditionFailed", 412, WriteConflictError),
        ("ConditionalRequestConflict", 409, WriteConflictError),
        ("SlowDown", 503, StoreUnavailableError),
        ("InternalError", 500, StoreUnavailableError),
        ("BadGateway", 502, StoreUnavailableError),
        ("AccessDenied", 403, StorageError),
        ("NoSuchBucket", 404, StorageError),
    ],
)
def test_s3_errors_map_to_the_error_tree(code: str, status: int, expected: type[Exception]) -> None:
    with pytest.raises(expected) as caught, _translated("k"):
        raise _client_error(code, status)
    assert type(caught.value) is expected
