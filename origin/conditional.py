"""Conditional requests (RFC 9110 §13): decided synchronously, returned as an enum."""

from __future__ import annotations

import enum
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


class Outcome(enum.Enum):
    PROCEED = "proceed"
    NOT_MODIFIED = "not-modified"  # 304
    PRECONDITION_FAILED = "precondition-failed"  # 412


def _etags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _strong_match(header: str, etag: str) -> bool:
    """§13.1.1 If-Match uses the strong comparison: weak tags never match."""
    return any(t == "*" or t == etag for t in _etags(header))


def _weak_match(header: str, etag: str) -> bool:
    """§13.1.2 If-None-Match uses the weak comparison: W/ prefixes are ignored."""
    plain = etag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == plain for t in _etags(header))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # §13.1.3: an invalid date is ignored
    return parsed if parsed.tzinfo else None


def evaluate(method: str, headers: Mapping[str, str], etag: str, modified: datetime) -> Outcome:
    """§13.2.2, in its order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since."""
    modified = modified.replace(microsecond=0)  # HTTP dates have one-second resolution
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _strong_match(if_match, etag):
            return Outcome.PRECONDITION_FAILED
    else:
        since = _date(headers.get("If-Unmodified-Since"))
        if since is not None and modified > since:
            return Outcome.PRECONDITION_FAILED
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if _weak_match(if_none_match, etag):
            return Outcome.NOT_MODIFIED if method in ("GET", "HEAD") else Outcome.PRECONDITION_FAILED
    elif method in ("GET", "HEAD"):
        since = _date(headers.get("If-Modified-Since"))
        if since is not None and modified <= since:
            return Outcome.NOT_MODIFIED
    return Outcome.PROCEED


def range_applies(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    """§13.1.5 If-Range: honour Range only if the validator still matches (strongly)."""
    if_range = headers.get("If-Range")
    if if_range is None:
        return True
    if if_range.startswith('"') or if_range.startswith("W/"):
        return if_range == etag
    when = _date(if_range)
    return when is not None and modified.replace(microsecond=0) == when
