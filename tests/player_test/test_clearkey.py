"""The checker's ClearKey client: the EME license format, read strictly."""

from __future__ import annotations

import json

import pytest

from player_test.clearkey import b64url, parse_license
from player_test.media import MediaError

KID = bytes(range(16))
KEY = bytes(range(16, 32))


def test_a_license_gives_each_kid_its_key() -> None:
    # W3C EME §9.1.4: a JWK Set of "oct" keys, base64url without padding.
    body = json.dumps({"keys": [{"kty": "oct", "kid": b64url(KID), "k": b64url(KEY)}], "type": "temporary"})
    assert b64url(KID) == "AAECAwQFBgcICQoLDA0ODw"
    assert parse_license(body.encode()) == {KID: KEY}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"keys": "none"}',
        b'{"no": "keys"}',
        json.dumps({"keys": [{"kty": "oct", "kid": b64url(KID), "k": b64url(KEY[:8])}]}).encode(),
    ],
    ids=["not-json", "keys-not-a-list", "no-keys", "short-key"],
)
def test_anything_else_is_a_media_error(body: bytes) -> None:
    with pytest.raises(MediaError):
        parse_license(body)
