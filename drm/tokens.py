"""Entitlement tokens: short-lived JWTs (RFC 7519, HS256 per RFC 7518 §3.2) naming one title.

A token says "the bearer may have the keys of TITLE until EXP". Verification requires every
claim, allows no clock leeway, accepts HS256 only (never ``none`` or an algorithm the token picks),
and checks the audience so a token signed for something else with the same secret is refused.
PyJWT compares signatures with ``hmac.compare_digest`` (``HMACAlgorithm.verify``): constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt

from vodpipe.errors import ConfigError, UnauthorizedError

if TYPE_CHECKING:
    from collections.abc import Callable

AUDIENCE = "vodpipe:license"
ALGORITHM = "HS256"
MAX_TTL = 7 * 24 * 3600
_REQUIRED = ["exp", "iat", "aud", "title"]


@dataclass(frozen=True)
class Entitlement:
    title: str
    expires: int


def secret_id(secret: bytes) -> str:
    """A public name for a signing secret (the JWS ``kid`` header), so a rotated one is told apart."""
    return hmac.new(secret, b"vodpipe token secret id", hashlib.sha256).hexdigest()[:16]


def _check_secret(secret: bytes | None) -> bytes:
    if secret is None:
        raise ConfigError("no token secret: set VODPIPE_TOKEN_SECRET to at least 32 random bytes")
    if len(secret) < 32:
        raise ConfigError("the token secret must be at least 32 bytes (RFC 7518 §3.2)")
    return secret


def issue_token(
    secret: bytes | None, title: str, ttl: int, now: Callable[[], float] = time.time
) -> str:
    """A token for ``title`` valid ``ttl`` seconds from ``now`` (injected for tests)."""
    key = _check_secret(secret)
    if not 0 < ttl <= MAX_TTL:
        raise ConfigError(f"a token lives 1 to {MAX_TTL} seconds, not {ttl}")
    issued = int(now())
    claims = {"title": title, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": secret_id(key)})


def verify_token(secret: bytes | None, token: str) -> Entitlement:
    """The entitlement a token grants; ``UnauthorizedError`` (one line, why) if it grants none."""
    key = _check_secret(secret)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=0,
            options={"require": _REQUIRED, "verify_signature": True},
        )
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("the token has expired: ask for a new one") from None
    except jwt.InvalidSignatureError:
        raise UnauthorizedError("the token's signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise UnauthorizedError(f"the token lacks the {exc.claim!r} claim") from None
    except jwt.InvalidTokenError as exc:
        raise UnauthorizedError(f"the token is not valid: {exc}") from None
    title = claims["title"]
    if not isinstance(title, str) or not title:
        raise UnauthorizedError("the token's title claim is not a title")
    return Entitlement(title, int(claims["exp"]))
