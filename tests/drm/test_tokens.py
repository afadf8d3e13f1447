from __future__ import annotations

import base64
import inspect
import json
import time

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from drm.tokens import issue_token, secret_id, verify_token
from vodpipe.errors import ConfigError, UnauthorizedError

SECRET = b"s" * 32
OTHER = b"o" * 32


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    result: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return result


def test_a_token_names_its_title_and_expiry() -> None:
    token = issue_token(SECRET, "demo", 3600, now=lambda: 1_000_000.0)
    claims = _claims(token)
    assert claims == {"title": "demo", "aud": "vodpipe:license", "iat": 1_000_000, "exp": 1_003_600}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": secret_id(SECRET)}


def test_a_fresh_token_verifies() -> None:
    entitlement = verify_token(SECRET, issue_token(SECRET, "demo", 60))
    assert entitlement.title == "demo"
    assert entitlement.expires > time.time()


def test_an_expired_token_is_refused_without_leeway() -> None:
    token = issue_token(SECRET, "demo", 10, now=lambda: time.time() - 11)
    with pytest.raises(UnauthorizedError, match="expired"):
        verify_token(SECRET, token)


def test_a_token_signed_with_another_secret_is_forged() -> None:
    with pytest.raises(UnauthorizedError, match="signature does not verify"):
        verify_token(SECRET, issue_token(OTHER, "demo", 60))


def test_a_token_with_an_edited_title_is_forged() -> None:
    header, _, signature = issue_token(SECRET, "demo", 60).split(".")
    forged = jwt.encode({"title": "premium", "aud": "vodpipe:license", "iat": 0, "exp": 2**40}, OTHER)
    with pytest.raises(UnauthorizedError, match="signature does not verify"):
        verify_token(SECRET, ".".join([header, forged.split(".")[1], signature]))


@pytest.mark.parametrize(
    ("claims", "algorithm", "message"),
    [
        pytest.param(
            {"aud": "vodpipe:license", "iat": 0, "exp": 2**40}, "HS256", "lacks the 'title'", id="no-title"
        ),
        pytest.param(
            {"title": "demo", "aud": "vodpipe:license", "iat": 0}, "HS256", "lacks the 'exp'", id="no-exp"
        ),
        pytest.param(
            {"title": "demo", "aud": "other", "iat": 0, "exp": 2**40}, "HS256", "(?i)audience", id="wrong-aud"
        ),
        pytest.param(
            {"title": "demo", "aud": "vodpipe:license", "iat": 0, "exp": 2**40},
            "HS512",
            "alg value is not allowed",
            id="other-alg",
        ),
    ],
)
def test_tokens_missing_claims_or_of_another_kind_are_refused(
    claims: dict[str, object], algorithm: str, message: str
) -> None:
    key = SECRET * 2 if algorithm == "HS512" else SECRET  # PyJWT warns on HS512 keys under 64 bytes
    token = jwt.encode(claims, key, algorithm=algorithm)
    with pytest.raises(UnauthorizedError, match=message):
        verify_token(SECRET, token)


def test_an_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode({"title": "demo", "aud": "vodpipe:license", "iat": 0, "exp": 2**40}, None, "none")
    with pytest.raises(UnauthorizedError, match="not valid"):
        verify_token(SECRET, unsigned)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(UnauthorizedError):
        verify_token(SECRET, garbage)


def test_missing_or_short_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="VODPIPE_TOKEN_SECRET"):
        issue_token(None, "demo", 60)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        verify_token(b"short", "x")


@pytest.mark.parametrize("ttl", [0, -5, 8 * 24 * 3600])
def test_ttl_is_bounded(ttl: int) -> None:
    with pytest.raises(ConfigError, match="a token lives"):
        issue_token(SECRET, "demo", ttl)


def test_pyjwt_compares_hmac_signatures_in_constant_time() -> None:
    # The property the license server relies on: a signature check that leaks no timing.
    assert "hmac.compare_digest" in inspect.getsource(HMACAlgorithm.verify)
