"""Signed URLs, pure: every way a query can be right or wrong, and what the refusal says."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest

from origin.signing import Grant, sign, sign_url, title_prefix, verify
from vodpipe.errors import ConfigError, SignedUrlError

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = 1_800_000_000
EXP = NOW + 3600
PATH = "/media/demo/v1/video/720p/seg-00001.m4s"


def _query(grant: Grant) -> dict[str, list[str]]:
    return parse_qs(grant.query)


def _with(grant: Grant, **changes: str | None) -> dict[str, list[str]]:
    query = _query(grant)
    for name, value in changes.items():
        if value is None:
            del query[name]
        else:
            query[name] = [value]
    return query


GOOD = sign(KEY, "/media/demo/", EXP)
# The last of 43 characters carries 4 bits and 2 padding bits: set a padding bit, same bytes.
_NONCANONICAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(GOOD.signature[-1]) | 1
]
FLIPPED = GOOD.signature[:10] + ("A" if GOOD.signature[10] != "A" else "B") + GOOD.signature[11:]

REFUSED = [
    ("missing", {}, "missing signature"),
    ("no-sig", _with(GOOD, sig=None), "incomplete signed URL: sig missing"),
    ("no-exp-no-prefix", _with(GOOD, exp=None, prefix=None), "incomplete signed URL: exp, prefix missing"),
    (
        "expired",
        _query(sign(KEY, "/media/demo/", NOW)),
        "expired: the signed URL was valid until 2027-01-15T08:00:00Z",
    ),
    ("long-expired", _query(sign(KEY, "/media/demo/", NOW - 86400)), "expired"),
    (
        "wrong-prefix",
        _query(sign(KEY, "/media/other/", EXP)),
        "wrong prefix: the signature is for /media/other/",
    ),
    ("sibling-title", _query(sign(KEY, "/media/dem/", EXP)), "wrong prefix"),
    ("narrower-prefix", _query(sign(KEY, "/media/demo/v1/audio/", EXP)), "wrong prefix"),
    ("tampered-sig", _with(GOOD, sig=FLIPPED), "forged signature"),
    ("tampered-exp", _with(GOOD, exp=str(EXP + 86400)), "forged signature"),
    ("tampered-prefix", _with(GOOD, prefix="/media/"), "malformed signed URL: prefix"),
    (
        "prefix-moved-to-cover",
        _with(sign(KEY, "/media/other/", EXP), prefix="/media/demo/"),
        "forged signature",
    ),
    ("other-key", _query(sign(OTHER_KEY, "/media/demo/", EXP)), "forged signature"),
    ("forged-and-expired", _with(sign(OTHER_KEY, "/media/demo/", NOW - 5)), "forged signature"),
    ("exp-not-number", _with(GOOD, exp="tomorrow"), "malformed signed URL: exp"),
    ("exp-negative", _with(GOOD, exp="-1"), "malformed signed URL: exp"),
    ("exp-spaces", _with(GOOD, exp=f" {EXP}"), "malformed signed URL: exp"),
    ("prefix-no-slash", _with(GOOD, prefix="/media/demo"), "malformed signed URL: prefix"),
    ("prefix-traversal", _with(GOOD, prefix="/media/demo/../"), "malformed signed URL: prefix"),
    ("prefix-outside-media", _with(GOOD, prefix="/keys/"), "malformed signed URL: prefix"),
    ("sig-short", _with(GOOD, sig=GOOD.signature[:-1]), "malformed signed URL: sig is not 32 bytes"),
    ("sig-padded", _with(GOOD, sig=GOOD.signature + "="), "malformed signed URL: sig is not 32 bytes"),
    ("sig-standard-b64", _with(GOOD, sig="+/" + GOOD.signature[2:]), "malformed signed URL: sig"),
    (
        "sig-not-canonical",
        _with(GOOD, sig=GOOD.signature[:-1] + _NONCANONICAL),
        "malformed signed URL: sig is not canon",
    ),
    ("sig-empty", _with(GOOD, sig=""), "malformed signed URL: sig"),
    (
        "sig-twice",
        {**_query(GOOD), "sig": [GOOD.signature, GOOD.signature]},
        "malformed signed URL: 'sig' is given 2 times",
    ),
]


@pytest.mark.parametrize(("query", "reason"), [(q, r) for _, q, r in REFUSED], ids=[i for i, _, _ in REFUSED])
def test_a_bad_signature_is_refused_with_its_reason(query: dict[str, list[str]], reason: str) -> None:
    with pytest.raises(SignedUrlError, match="^" + reason.replace("(", r"\(")) as caught:
        verify(KEY, PATH, query, NOW)
    assert caught.value.status == 403
    assert KEY.decode() not in caught.value.message


VALID = [
    ("title", "/media/demo/", PATH),
    ("version", "/media/demo/v1/", PATH),
    ("rendition", "/media/demo/v1/video/720p/", PATH),
    ("master", "/media/demo/", "/media/demo/v1/master.m3u8"),
]


@pytest.mark.parametrize(("prefix", "path"), [(p, q) for _, p, q in VALID], ids=[i for i, _, _ in VALID])
def test_a_good_signature_grants_its_prefix(prefix: str, path: str) -> None:
    grant = verify(KEY, path, _query(sign(KEY, prefix, EXP)), NOW)
    assert grant == Grant(prefix, EXP, sign(KEY, prefix, EXP).signature)


def test_the_last_second_before_exp_is_valid_and_exp_itself_is_not() -> None:
    query = _query(GOOD)
    assert verify(KEY, PATH, query, EXP - 1).expires == EXP
    with pytest.raises(SignedUrlError, match="expired"):
        verify(KEY, PATH, query, EXP)


def test_the_signature_is_hmac_sha256_of_version_exp_and_prefix_in_base64url() -> None:
    """An independent computation with hmac and base64 from the standard library."""
    mac = hmac.new(KEY, b"vodpipe-signed-url-v1\n1800003600\n/media/demo/", hashlib.sha256).digest()
    assert GOOD.signature == base64.urlsafe_b64encode(mac).decode().rstrip("=")
    assert GOOD.query == f"exp=1800003600&prefix=/media/demo/&sig={GOOD.signature}"


def test_sign_url_signs_the_title_and_keeps_other_parameters() -> None:
    url = sign_url(KEY, "http://cdn.example:8080/media/demo/v1/master.m3u8?CMCD=sid%3D1&sig=old", 60, NOW)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "cdn.example:8080",
        "/media/demo/v1/master.m3u8",
    )
    query = parse_qs(parts.query)
    assert query["CMCD"] == ["sid=1"]
    assert query["exp"] == [str(NOW + 60)]
    assert query["prefix"] == ["/media/demo/"]
    assert verify(KEY, parts.path, query, NOW).prefix == "/media/demo/"


def test_sign_url_for_the_player_page_signs_the_titles_media() -> None:
    url = sign_url(KEY, "http://127.0.0.1:8080/play/demo?player=hls.js", 60, NOW)
    query = parse_qs(urlsplit(url).query)
    assert query["player"] == ["hls.js"]
    assert verify(KEY, "/media/demo/v1/master.m3u8", query, NOW).prefix == "/media/demo/"


@pytest.mark.parametrize(
    ("url", "ttl", "prefix", "message"),
    [
        ("http://h/keys/k1.json", 60, None, "only URLs under /media/TITLE/"),
        ("http://h/media/", 60, None, "only URLs under /media/TITLE/"),
        ("http://h/media/demo", 60, None, "only URLs under /media/TITLE/"),
        ("ftp://h/media/demo/v1/master.m3u8", 60, None, "not an http"),
        ("/media/demo/v1/master.m3u8", 60, None, "not an http"),
        ("http://h/media/demo/v1/master.m3u8", 0, None, "--ttl must be 1 to"),
        ("http://h/media/demo/v1/master.m3u8", 60, "/media/other/", "does not cover"),
        ("http://h/media/demo/v1/master.m3u8", 60, "/media/", "a signed prefix is /media/TITLE/"),
        ("http://h/play/demo", 60, "/media/other/", "does not cover /play/demo"),
    ],
    ids=[
        "keys",
        "media-root",
        "no-slash",
        "ftp",
        "relative",
        "ttl-zero",
        "prefix-elsewhere",
        "prefix-all",
        "page",
    ],
)
def test_sign_url_refuses_what_it_cannot_sign(url: str, ttl: int, prefix: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sign_url(KEY, url, ttl, NOW, prefix)


def test_title_prefix() -> None:
    assert title_prefix("/media/demo/v1/master.m3u8") == "/media/demo/"
    assert title_prefix("/play/demo") == "/media/demo/"
