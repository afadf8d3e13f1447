"""The license server: W3C EME ClearKey licenses and the HLS AES-128 key URI, as aiohttp routes.

- ``POST {prefix}/clearkey``: the EME ClearKey license exchange (W3C Encrypted Media Extensions,
  §9.1.3 "License Request Format" and §9.1.4 "License Format"): ``{"kids": [...], "type": ...}``
  in, a JSON Web Key set of ``oct`` keys out, every value base64url without padding.
- ``GET {prefix}/aes128/{kid}``: the 16 raw key bytes that an HLS ``EXT-X-KEY`` with
  ``METHOD=AES-128`` names by URI (RFC 8216 §5.2), for clients without EME.

Both need an entitlement token (``Authorization: Bearer``, RFC 6750 §2.1) and hand out only keys
of the title the token names. Every answer is ``Cache-Control: no-store`` (a key must never sit in
a shared cache) and carries CORS headers; each request writes one audit line, never key material.
Errors are raised from vodpipe's error tree; the app's problem middleware renders them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from drm.tokens import Entitlement, verify_token
from vodpipe.errors import ForbiddenError, KeyStoreError, RequestError, UnauthorizedError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from drm.keys import ContentKey
    from drm.keystore import KeyStore

PREFIX = "/license"
MAX_KIDS = 64
LICENSE_TYPES = ("temporary", "persistent-license")
audit_log = logging.getLogger("vodpipe.license.audit")
log = logging.getLogger("vodpipe.license")

NO_STORE = {"Cache-Control": "no-store", "CDN-Cache-Control": "no-store"}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


@dataclass(frozen=True)
class LicenseService:
    """What the routes need: the key store and the secret that signs entitlement tokens."""

    keys: KeyStore
    token_secret: bytes


SERVICE_KEY = web.AppKey("license_service", LicenseService)


def clearkey_url(base: str) -> str:
    """The ClearKey license URL to signal in manifests (DASH ``dashif:Laurl``, HLS key URI)."""
    return f"{base.rstrip('/')}{PREFIX}/clearkey"


def aes128_key_uri(base: str, kid: bytes) -> str:
    """The URI of an HLS ``EXT-X-KEY:METHOD=AES-128`` for the key ``kid``."""
    return f"{base.rstrip('/')}{PREFIX}/aes128/{kid.hex()}"


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2), as JWK ``k`` and ``kid`` are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _kid_from_b64url(value: object) -> bytes:
    if not isinstance(value, str) or not value.isascii():
        raise RequestError("each KID must be a base64url string")
    try:
        kid = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise RequestError(f"KID {value!r} is not base64url") from None
    if len(kid) != 16 or b64url(kid) != value.rstrip("="):
        raise RequestError(f"KID {value!r} is not 16 bytes of base64url")
    return kid


def parse_clearkey_request(body: bytes) -> tuple[list[bytes], str]:
    """The KIDs and license type of a ClearKey license request; ``RequestError`` if malformed."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("the license request is not JSON") from None
    if not isinstance(message, dict):
        raise RequestError('the license request must be a JSON object with "kids"')
    kids = message.get("kids")
    if not isinstance(kids, list) or not kids:
        raise RequestError('"kids" must be a non-empty list of base64url KIDs')
    if len(kids) > MAX_KIDS:
        raise RequestError(f"at most {MAX_KIDS} KIDs per license request")
    license_type = message.get("type", "temporary")
    if license_type not in LICENSE_TYPES:
        raise RequestError(f'"type" must be one of {", ".join(LICENSE_TYPES)}')
    return [_kid_from_b64url(k) for k in kids], str(license_type)


def clearkey_license(keys: list[ContentKey], license_type: str) -> dict[str, Any]:
    """The ClearKey license: a JWK set of symmetric keys (RFC 7517 §5, RFC 7518 §6.4)."""
    return {
        "keys": [{"kty": "oct", "k": b64url(k.key), "kid": b64url(k.kid)} for k in keys],
        "type": license_type,
    }


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1)."""
    if not header:
        raise UnauthorizedError("a bearer token is required: send Authorization: Bearer TOKEN", error=None)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("the Authorization header must be: Bearer TOKEN", error="invalid_request")
    return token.strip()


def entitled_keys(service: LicenseService, entitlement: Entitlement, kids: list[bytes]) -> list[ContentKey]:
    """The keys for ``kids``, each of which must belong to the entitled title (blocking I/O)."""
    found = []
    for kid in kids:
        try:
            stored = service.keys.get(kid)  # KeyNotFoundError: 404
        except KeyStoreError as exc:
            # The operator's problem (wrong KEK, altered record): logged here, not told to players.
            log.error("license for KID %s failed: %s", kid.hex(), exc.message)
            raise VodpipeError("the license server cannot open its keys; the error is logged") from None
        if stored.title != entitlement.title:
            raise ForbiddenError(f"the token for {entitlement.title!r} does not cover KID {kid.hex()}")
        found.append(stored.key)
    return found


class _Audit:
    """One log line per license request: kind, outcome, title, KIDs, client. No key material."""

    def __init__(self, request: web.Request, kind: str) -> None:
        self.request, self.kind = request, kind
        self.title = "-"
        self.kids: list[bytes] = []

    def __enter__(self) -> _Audit:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            status = 200
        elif isinstance(exc, VodpipeError | web.HTTPException):
            status = exc.status
        else:
            status = 500
        audit_log.info(
            "license %s outcome=%s status=%d title=%s kids=%s client=%s",
            self.kind,
            "granted" if status == 200 else "refused",
            status,
            self.title,
            ",".join(k.hex() for k in self.kids) or "-",
            self.request.remote or "-",
        )


def _entitle(request: web.Request, audit: _Audit) -> tuple[LicenseService, Entitlement]:
    service = request.app[SERVICE_KEY]
    entitlement = verify_token(service.token_secret, bearer_token(request.headers.get("Authorization")))
    audit.title = entitlement.title
    return service, entitlement


async def clearkey(request: web.Request) -> web.Response:
    with _Audit(request, "clearkey") as audit:
        service, entitlement = _entitle(request, audit)
        kids, license_type = parse_clearkey_request(await request.read())
        audit.kids = kids
        keys = await asyncio.to_thread(entitled_keys, service, entitlement, kids)
        return web.json_response(clearkey_license(keys, license_type))


async def aes128_key(request: web.Request) -> web.Response:
    with _Audit(request, "aes128") as audit:
        service, entitlement = _entitle(request, audit)
        text = request.match_info["kid"]
        try:
            kid = bytes.fromhex(text) if len(text) == 32 else b""
        except ValueError:
            kid = b""
        if not kid:
            raise RequestError("the key URI must end in a KID of 32 hex digits")
        audit.kids = [kid]
        (key,) = await asyncio.to_thread(entitled_keys, service, entitlement, [kid])
        return web.Response(body=key.key, content_type="application/octet-stream")


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight (Fetch standard §3.2.2): browsers send Authorization and a JSON body."""
    return web.Response(status=204, headers=PREFLIGHT_HEADERS)


async def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(PREFIX + "/"):
        response.headers.update(NO_STORE)
        response.headers["Access-Control-Allow-Origin"] = "*"


def _other_methods(allowed: list[str]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def refuse(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMethodNotAllowed(request.method, allowed, text=f"{request.method} is not allowed here")

    return refuse


def add_license_routes(app: web.Application, service: LicenseService) -> None:
    """Mount the license routes under ``/license/`` (before any catch-all route of the app)."""
    app[SERVICE_KEY] = service
    for path, method, handler in [
        (PREFIX + "/clearkey", "POST", clearkey),
        (PREFIX + "/aes128/{kid}", "GET", aes128_key),
    ]:
        resource = app.router.add_resource(path)
        resource.add_route(method, handler)
        resource.add_route("OPTIONS", preflight)
        resource.add_route("*", _other_methods([method, "OPTIONS"]))
    app.on_response_prepare.append(_no_store)
