"""The title catalog: one JSON record per title at ``catalog/titles/{title}.json``."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from vodpipe.errors import ConfigError, ObjectNotFoundError, TitleNotFoundError

if TYPE_CHECKING:
    from storage.base import ObjectStore

Status = Literal["ingested", "encoding", "packaging", "published", "failed"]
_TITLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def validate_title(title: str) -> str:
    if not _TITLE.fullmatch(title):
        raise ConfigError(
            f"invalid title {title!r}: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return title


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

    def with_status(self, status: Status, **changes: Any) -> TitleRecord:
        return replace(self, status=status, updated_at=_now(), **changes)


def record_key(title: str) -> str:
    return f"catalog/titles/{validate_title(title)}.json"


class Catalog:
    """Reads and writes title records in an object store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def find(self, title: str) -> TitleRecord | None:
        try:
            raw = self.store.get_bytes(record_key(title))
        except ObjectNotFoundError:
            return None
        return TitleRecord(**json.loads(raw))

    def get(self, title: str) -> TitleRecord:
        record = self.find(title)
        if record is None:
            raise TitleNotFoundError(f"no title {title!r} in the catalog")
        return record

    def save(self, record: TitleRecord) -> None:
        data = json.dumps(asdict(record), indent=2, sort_keys=True).encode()
        self.store.put_bytes(record_key(record.title), data, "application/json")
