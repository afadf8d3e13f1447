from __future__ import annotations

import pytest

from ingest.auth import ApiKeys, bearer_team
from vodpipe.errors import UnauthorizedError

KEYS = "news:n" + "x" * 20 + ",sport:s" + "y" * 20


def test_keys_name_their_team_and_never_show() -> None:
    keys = ApiKeys.parse(KEYS)
    assert keys.teams == ("news", "sport")
    assert keys.team_for(("s" + "y" * 20).encode()) == "sport"
    assert keys.team_for(b"nope") is None
    assert "x" * 20 not in repr(keys)
    assert "y" * 20 not in str(keys)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("just-a-key-without-team", "team:key"),
        ("news:short", "shorter than 16"),
        (KEYS + ",news:" + "z" * 16, "twice"),
    ],
    ids=["no-team", "short-key", "duplicate-team"],
)
def test_bad_key_lists_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiKeys.parse(value)


def test_bearer_challenges_follow_rfc6750() -> None:
    keys = ApiKeys.parse(KEYS)
    assert bearer_team(keys, "Bearer n" + "x" * 20) == "news"
    with pytest.raises(UnauthorizedError) as caught:
        bearer_team(keys, None)
    assert caught.value.challenge == 'Bearer realm="vodpipe"'  # §3: no error code without credentials
    with pytest.raises(UnauthorizedError) as caught:
        bearer_team(keys, "Bearer wrong-key")
    assert 'error="invalid_token"' in caught.value.challenge
    with pytest.raises(UnauthorizedError) as caught:
        bearer_team(keys, "Basic Zm9vOmJhcg==")
    assert 'error="invalid_request"' in caught.value.challenge
