"""API keys for content teams: ``Authorization: Bearer KEY``, each key naming its team.

Keys come from one setting (``VODPIPE_API_KEYS=team:key,team:key``). They are compared in
constant time against every configured key, and never printed: ``repr`` hides them and error
messages name the team at most.
"""

from __future__ import annotations

import hmac
import re

from vodpipe.errors import UnauthorizedError

MIN_KEY_LENGTH = 16
_TEAM = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ApiKeys:
    """Team name -> key. ``team_for`` answers which team a presented key belongs to."""

    __slots__ = ("_keys",)

    def __init__(self, keys: dict[str, bytes]) -> None:
        self._keys = tuple(keys.items())

    @classmethod
    def parse(cls, value: str) -> ApiKeys:
        keys: dict[str, bytes] = {}
        for entry in value.split(","):
            team, sep, key = entry.strip().partition(":")
            if not sep or not _TEAM.fullmatch(team):
                raise ValueError("must be comma-separated team:key pairs (team: letters, digits, ._-)")
            if len(key) < MIN_KEY_LENGTH:
                raise ValueError(f"the key of team {team!r} is shorter than {MIN_KEY_LENGTH} characters")
            if team in keys:
                raise ValueError(f"team {team!r} is listed twice")
            keys[team] = key.encode()
        return cls(keys)

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(team for team, _ in self._keys)

    def team_for(self, presented: bytes) -> str | None:
        # Every key is compared, whatever matched, so the time taken says nothing about which.
        found = None
        for team, key in self._keys:
            if hmac.compare_digest(key, presented):
                found = team
        return found

    def __repr__(self) -> str:
        return f"ApiKeys(teams={list(self.teams)!r}, keys=<hidden>)"

    __str__ = __repr__


def bearer_team(keys: ApiKeys, authorization: str | None) -> str:
    """The team of a request's bearer key; ``UnauthorizedError`` (401) with RFC 6750's challenge."""
    if not authorization:
        raise UnauthorizedError("an API key is required: send 'Authorization: Bearer KEY'", error=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("use 'Authorization: Bearer KEY'", error="invalid_request")
    team = keys.team_for(token.strip().encode())
    if team is None:
        raise UnauthorizedError("the API key is not valid")
    return team
