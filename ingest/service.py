"""Ingest a master: probe, validate, store content-addressed, record in the catalog."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.catalog import Catalog, EncryptionMode, TitleRecord, validate_title
from ingest.probe import probe
from ingest.validate import MasterLimits, validate

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore


@dataclass(frozen=True)
class IngestOutcome:
    record: TitleRecord
    is_new: bool  # False when these exact bytes are already this title's master


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def master_key(title: str, digest: str, path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    ext = ext if ext.isalnum() and len(ext) <= 5 else "bin"
    return f"masters/{title}/{digest}.{ext}"


def ingest_master(
    store: ObjectStore,
    path: Path,
    title: str,
    limits: MasterLimits,
    encryption: EncryptionMode = "none",
    ladder_mode: str | None = None,
) -> IngestOutcome:
    """Validate before storing anything, so a bad master leaves no trace and loses nothing.

    ``encryption`` is recorded with the title: the job packages it so (clear, cenc or cbcs).
    The same bytes under another encryption are a new ingest (a new version). ``ladder_mode``
    (``fixed``/``per-title``, None for the setting) is recorded too, and a change of it likewise.
    """
    validate_title(title)
    info = probe(path)
    validate(info, limits)
    digest = sha256_file(path)
    catalog = Catalog(store)
    existing = catalog.find(title)
    if (
        existing
        and existing.master_sha256 == digest
        and existing.encryption == encryption
        and existing.ladder_mode == ladder_mode
        and existing.status != "failed"
    ):
        return IngestOutcome(existing, is_new=False)
    key = master_key(title, digest, path)
    if not store.exists(key):
        store.put_file(key, path)

    def ingested(current: TitleRecord | None) -> TitleRecord:
        return TitleRecord(
            title=title,
            status="ingested",
            master_key=key,
            master_sha256=digest,
            master_name=path.name,
            probe=info.to_dict(),
            published_version=current.published_version if current else None,
            encryption=encryption,
            ladder_mode=ladder_mode,
        )

    return IngestOutcome(catalog.upsert(title, ingested), is_new=True)
