"""Keys for the checker from a W3C ClearKey license server, as a browser's EME would ask for them.

The request and response are EME's ClearKey formats (W3C Encrypted Media Extensions §9.1.3/§9.1.4):
``{"kids": [...], "type": "temporary"}`` in, a JSON Web Key Set of ``oct`` keys out, KIDs and keys
in base64url without padding. The bearer token goes in ``Authorization``, as the players send it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING

from player_test.media import MediaError

if TYPE_CHECKING:
    from player_test.fetch import Fetcher


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_license(body: bytes) -> dict[bytes, bytes]:
    """KID -> key from a ClearKey license (a JWK Set)."""
    try:
        document = json.loads(body)
        keys = {_unb64url(k["kid"]): _unb64url(k["k"]) for k in document["keys"] if k.get("kty") == "oct"}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise MediaError(f"not a ClearKey license (JSON Web Key Set): {exc}") from None
    if any(len(kid) != 16 or len(key) != 16 for kid, key in keys.items()):
        raise MediaError("a ClearKey license key or KID is not 16 bytes")
    return keys


def request_keys(fetcher: Fetcher, url: str, kids: list[bytes]) -> dict[bytes, bytes]:
    """Ask ``url`` for ``kids``; raises ``MediaError`` naming the status (and problem title) on refusal."""
    body = json.dumps({"kids": [b64url(k) for k in kids], "type": "temporary"}).encode()
    response = fetcher.request(url, "POST", {"Content-Type": "application/json"}, body)
    if response.status != 200:
        detail = ""
        try:
            problem = json.loads(response.body)
            detail = f": {problem.get('title', '')} {problem.get('detail', '')}".rstrip()
        except (ValueError, AttributeError):
            pass
        reason = response.error or f"HTTP {response.status}"
        raise MediaError(f"license server {url} refused the keys ({reason}{detail})")
    return parse_license(response.body)
