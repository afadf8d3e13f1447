"""tus 1.0.0 header grammar and decisions, against the words of the spec
(https://tus.io/protocols/resumable-upload)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ingest.tus import (
    PATCH_CONTENT_TYPE,
    capability_headers,
    check_patch,
    check_version,
    encode_metadata,
    parse_checksum,
    parse_length,
    parse_metadata,
)
from vodpipe.errors import (
    PayloadTooLargeError,
    RequestError,
    TusVersionError,
    UnsupportedMediaTypeError,
    UploadOffsetError,
)


def test_the_spec_metadata_example_decodes() -> None:
    # Creation extension, Upload-Metadata: the spec's own example, including a key without a value.
    header = "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential"
    assert parse_metadata(header) == {"filename": "world_domination_plan.pdf", "is_confidential": ""}


def test_metadata_round_trips_utf8() -> None:
    metadata = {"filename": "Mon film (2024).mov", "title": "mon-film"}
    assert parse_metadata(encode_metadata(metadata)) == metadata
    assert parse_metadata(None) == {}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("filename not-base64!", "not Base64"),
        ("filename a b", "not 'key base64value'"),
        ("title dGl0bGU=,title dGl0bGU=", "twice"),
        ("é dGl0bGU=", "not 'key base64value'"),
    ],
    ids=["bad-base64", "three-words", "duplicate-key", "non-ascii-key"],
)
def test_malformed_metadata_is_a_400(header: str, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        parse_metadata(header)


def test_version_is_required_and_exact() -> None:
    check_version({"Tus-Resumable": "1.0.0"})
    for headers in ({}, {"Tus-Resumable": "0.2.2"}):
        with pytest.raises(TusVersionError) as caught:
            check_version(headers)
        assert caught.value.status == 412


def test_length_must_be_a_non_negative_integer_within_the_maximum() -> None:
    assert parse_length("0", 10) == 0
    assert parse_length("10", 10) == 10
    with pytest.raises(PayloadTooLargeError):
        parse_length("11", 10)
    for bad in (None, "-1", "1.5", "ten", ""):
        with pytest.raises(RequestError):
            parse_length(bad, 10)


def test_checksum_parses_sha1_and_sha256_and_refuses_others() -> None:
    body = b"hello tus"
    for algorithm in ("sha1", "sha256"):
        digest = hashlib.new(algorithm, body).digest()
        checksum = parse_checksum(f"{algorithm} {base64.b64encode(digest).decode()}")
        assert checksum is not None
        assert checksum.algorithm == algorithm
        assert checksum.matches(digest)
    assert parse_checksum(None) is None
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    # Checksum extension: an unsupported algorithm is "400 Bad Request".
    with pytest.raises(RequestError, match="not supported"):
        parse_checksum(f"md5 {md5}")
    with pytest.raises(RequestError, match="wrong length"):
        parse_checksum(f"sha256 {base64.b64encode(hashlib.sha1(body).digest()).decode()}")


def _patch_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": PATCH_CONTENT_TYPE, "Upload-Offset": "100", **extra}


def test_a_patch_at_the_right_offset_may_write_up_to_the_rest() -> None:
    patch = check_patch(_patch_headers(), offset=100, length=250)
    assert (patch.offset, patch.limit, patch.checksum) == (100, 150, None)


def test_a_patch_at_another_offset_is_a_409() -> None:
    with pytest.raises(UploadOffsetError) as caught:
        check_patch(_patch_headers(**{"Upload-Offset": "50"}), offset=100, length=250)
    assert caught.value.status == 409
    assert "at byte 100" in caught.value.message


def test_a_patch_of_another_content_type_is_a_415() -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        check_patch(_patch_headers(**{"Content-Type": "application/octet-stream"}), offset=100, length=250)


def test_a_patch_whose_content_length_passes_the_upload_length_is_a_413() -> None:
    with pytest.raises(PayloadTooLargeError):
        check_patch(_patch_headers(**{"Content-Length": "151"}), offset=100, length=250)
    assert check_patch(_patch_headers(**{"Content-Length": "150"}), offset=100, length=250).limit == 150


def test_options_lists_version_extensions_size_and_algorithms() -> None:
    headers = capability_headers(1 << 30)
    assert headers["Tus-Version"] == "1.0.0"
    assert headers["Tus-Extension"].split(",") == ["creation", "checksum", "termination"]
    assert headers["Tus-Max-Size"] == str(1 << 30)
    assert "sha1" in headers["Tus-Checksum-Algorithm"].split(",")
