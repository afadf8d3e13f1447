"""Conditional requests (RFC 9110 §13): decided synchronously, returned as an enum.

Every field is read leniently: a malformed entity-tag list element is skipped, and a date that
is not exactly one HTTP-date is ignored, as §13.1.3 and §13.1.4 require.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from origin.httpdate import parse_http_date

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\U0010ffff]*)"')
_SEPARATOR = re.compile(r"[ \t]*(?:,|$)")


class Outcome(enum.Enum):
    PROCEED = "proceed"
    NOT_MODIFIED = "not-modified"  # 304
    PRECONDITION_FAILED = "precondition-failed"  # 412


@dataclass(frozen=True)
class EntityTag:
    opaque: str
    weak: bool = False


def parse_entity_tag(value: str) -> EntityTag | None:
    match = _ENTITY_TAG.fullmatch(value.strip(" \t"))
    return EntityTag(match.group(2), match.group(1) is not None) if match else None


def parse_entity_tags(value: str) -> list[EntityTag] | None:
    """``If-Match``/``If-None-Match`` = "*" / #entity-tag: None for ``*``, else the valid tags.

    Tags are found by scanning, since an opaque-tag may itself hold a comma; an element that is not
    an entity-tag is skipped up to the next comma.
    """
    if value.strip(" \t") == "*":
        return None
    tags: list[EntityTag] = []
    pos = 0
    while pos < len(value):
        if value[pos] in " \t,":
            pos += 1
            continue
        match = _ENTITY_TAG.match(value, pos)
        after = _SEPARATOR.match(value, match.end()) if match else None
        if match and after:
            tags.append(EntityTag(match.group(2), match.group(1) is not None))
            pos = after.end()
        else:
            comma = value.find(",", pos)
            pos = len(value) if comma < 0 else comma + 1
    return tags


def _strong_match(value: str, current: EntityTag) -> bool:
    """§13.1.1 If-Match uses the strong comparison (§8.8.3.2): weak tags never match."""
    tags = parse_entity_tags(value)
    if tags is None:
        return True
    return any(not t.weak and not current.weak and t.opaque == current.opaque for t in tags)


def _weak_match(value: str, current: EntityTag) -> bool:
    """§13.1.2 If-None-Match uses the weak comparison: only the opaque tags are compared."""
    tags = parse_entity_tags(value)
    return tags is None or any(t.opaque == current.opaque for t in tags)


def evaluate(
    method: str, headers: Mapping[str, str], etag: str, modified: datetime, now: datetime
) -> Outcome:
    """§13.2.2, in its order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since."""
    current = parse_entity_tag(etag) or EntityTag(etag)
    modified = modified.replace(microsecond=0)  # HTTP dates have one-second resolution
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _strong_match(if_match, current):
            return Outcome.PRECONDITION_FAILED
    else:  # §13.1.4: ignored when If-Match is present
        since = parse_http_date(headers.get("If-Unmodified-Since"), now)
        if since is not None and modified > since:
            return Outcome.PRECONDITION_FAILED
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if _weak_match(if_none_match, current):
            return Outcome.NOT_MODIFIED if method in ("GET", "HEAD") else Outcome.PRECONDITION_FAILED
    elif method in ("GET", "HEAD"):  # §13.1.3: ignored when If-None-Match is present
        since = parse_http_date(headers.get("If-Modified-Since"), now)
        if since is not None and modified <= since:
            return Outcome.NOT_MODIFIED
    return Outcome.PROCEED


def range_applies(headers: Mapping[str, str], etag: str, modified: datetime, now: datetime) -> bool:
    """§13.1.5 If-Range: honour Range only if the validator still matches, strongly.

    An entity-tag must match by the strong comparison. A date must equal Last-Modified exactly and
    Last-Modified must be a strong validator: §8.8.2.2 deems it so only when it is at least one
    second before the response's Date (``now``), since the object could change again within the
    second it names. Anything else (a weak tag, garbage) means: send the whole representation.
    """
    if_range = headers.get("If-Range")
    if if_range is None:
        return True
    tag = parse_entity_tag(if_range)
    if tag is not None:
        current = parse_entity_tag(etag) or EntityTag(etag)
        return not tag.weak and not current.weak and tag.opaque == current.opaque
    when = parse_http_date(if_range, now)
    last_modified = modified.replace(microsecond=0)
    strong = (now.replace(microsecond=0) - last_modified).total_seconds() >= 1
    return when is not None and strong and last_modified == when
