"""Ingest a master: probe, validate, store content-addressed, record in the catalog."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.catalog import Catalog, TitleRecord, validate_title
from ingest.options import TitleOptions
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
    options: TitleOptions | None = None,
) -> IngestOutcome:
    """Validate before storing anything, so a bad master leaves no trace and loses nothing.

    The title's ``options`` (``TitleOptions``: None for the defaults) are recorded with it: the
    job packages it clear, cenc or cbcs, with the ladder mode and codecs chosen (None: the
    settings'). The same bytes under other options are a new ingest (a new version). Signed URLs
    are not the catalog's: the caller records them (``OptionsPolicy.apply``).
    """
    chosen = options or TitleOptions()
    codecs = list(chosen.video_codecs) if chosen.video_codecs is not None else None
    validate_title(title)
    info = probe(path)
    validate(info, limits)
    digest = sha256_file(path)
    catalog = Catalog(store)
    existing = catalog.find(title)
    if (
        existing
        and existing.master_sha256 == digest
        and existing.encryption == chosen.encryption
        and existing.ladder_mode == chosen.ladder_mode
        and existing.video_codecs == codecs
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
            encryption=chosen.encryption,
            ladder_mode=chosen.ladder_mode,
            video_codecs=codecs,
        )

    return IngestOutcome(catalog.upsert(title, ingested), is_new=True)
