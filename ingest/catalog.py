"""The title catalog: one JSON record per title at ``catalog/titles/{title}.json``.

Many tasks on many hosts update one record at once (status, per-stage progress, renditions), so
every write is a compare-and-swap: read the record and its ETag, apply a pure change, write only
if the ETag is unchanged (``ObjectStore.put_if``), else read again and re-apply. No update is
lost, and none is applied twice to the same version of the record.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from vodpipe.errors import ConfigError, ObjectNotFoundError, TitleNotFoundError, WriteConflictError

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.base import ObjectStore

Status = Literal["ingested", "encoding", "packaging", "published", "failed"]
EncryptionMode = Literal["none", "cenc", "cbcs"]
ENCRYPTION_MODES: tuple[EncryptionMode, ...] = ("none", "cenc", "cbcs")
LADDER_MODES = ("fixed", "per-title")
_TITLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def validate_title(title: str) -> str:
    if not _TITLE.fullmatch(title):
        raise ConfigError(
            f"invalid title {title!r}: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return title


def parse_encryption(value: str) -> EncryptionMode:
    for mode in ENCRYPTION_MODES:
        if value == mode:
            return mode
    raise ConfigError(f"unknown encryption {value!r}: use one of {', '.join(ENCRYPTION_MODES)}")


def parse_ladder_mode(value: str) -> str:
    if value not in LADDER_MODES:
        raise ConfigError(f"unknown ladder mode {value!r}: use one of {', '.join(LADDER_MODES)}")
    return value


def title_from_filename(name: str) -> str:
    """A title slug from a file name: ``My Film (2024).mov`` -> ``my-film-2024``."""
    stem = name.rsplit(".", 1)[0].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:64]
    return slug or "title"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class TitleRecord:
    title: str
    status: Status
    master_key: str
    master_sha256: str
    master_name: str
    probe: dict[str, Any]
    version: str | None = None
    published_version: str | None = None
    ladder: list[dict[str, Any]] = field(default_factory=list)
    renditions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    progress: dict[str, float] = field(default_factory=dict)  # stage -> percent done
    updated_at: str = field(default_factory=_now)
    encryption: EncryptionMode = "none"  # chosen at ingest; records written before it are clear
    ladder_mode: str | None = None  # "fixed" or "per-title" chosen at ingest; None: the setting
    video_codecs: list[str] | None = None  # the ladder's codecs chosen at ingest; None: the setting
    per_title: dict[str, Any] | None = None  # the per-title plan's summary (analyse stage)
    quality: dict[str, Any] | None = None  # the quality report's summaries (quality stage)

    def with_status(self, status: Status, **changes: Any) -> TitleRecord:
        return replace(self, status=status, updated_at=_now(), **changes)


def record_key(title: str) -> str:
    return f"catalog/titles/{validate_title(title)}.json"


MAX_ATTEMPTS = 100  # compare-and-swap rounds before giving up; each lost round means another won


class Catalog:
    """Reads and writes title records in an object store; every write is compare-and-swap."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _read(self, title: str) -> tuple[TitleRecord | None, str | None]:
        try:
            raw, etag = self.store.read_versioned(record_key(title))
        except ObjectNotFoundError:
            return None, None
        return TitleRecord(**json.loads(raw)), etag

    def find(self, title: str) -> TitleRecord | None:
        return self._read(title)[0]

    def get(self, title: str) -> TitleRecord:
        record = self.find(title)
        if record is None:
            raise TitleNotFoundError(f"no title {title!r} in the catalog")
        return record

    def upsert(self, title: str, change: Callable[[TitleRecord | None], TitleRecord]) -> TitleRecord:
        """Apply ``change`` to the current record (``None`` if there is none) and write the result
        if nobody wrote in between; otherwise re-read and re-apply. ``change`` must be pure: it
        may run several times."""
        for attempt in range(MAX_ATTEMPTS):
            current, etag = self._read(title)
            record = change(current)
            if record.title != title:
                raise ValueError(f"a change to {title!r} returned the record of {record.title!r}")
            data = json.dumps(asdict(record), indent=2, sort_keys=True).encode()
            try:
                self.store.put_if(record_key(title), data, etag, "application/json")
            except WriteConflictError:
                # Another writer won this round. A short random wait spreads the losers out so
                # that they do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
                continue
            return record
        raise WriteConflictError(f"title record {title!r} kept changing: gave up after {MAX_ATTEMPTS} tries")

    def update(self, title: str, change: Callable[[TitleRecord], TitleRecord]) -> TitleRecord:
        """Compare-and-swap ``change`` onto an existing record; raises ``TitleNotFoundError``."""

        def existing(record: TitleRecord | None) -> TitleRecord:
            if record is None:
                raise TitleNotFoundError(f"no title {title!r} in the catalog")
            return change(record)

        return self.upsert(title, existing)

    def save(self, record: TitleRecord) -> TitleRecord:
        """Replace the whole record, whatever it holds now. Only for a writer that owns the record
        (one in-process job); tasks that run side by side use :meth:`update`, which merges."""
        return self.upsert(record.title, lambda _: record)
