"""Intermediate work in the object store, so that encode, join and package run on any host.

Layout (DESIGN.md, "Storage layout"), all private, all under one version of one title::

    work/{title}/{version}/chunks/{index:05d}/{name}   one chunk's encode, every rung
    work/{title}/{version}/renditions/{name}           a whole rung or audio track (joined or not)
    work/{title}/{version}/packaged/...                the packaged title, before it is published

and, kept after publishing (private too: the origin serves ``media/`` alone)::

    reports/{title}/{version}/plan.json, hull.svg      the per-title plan and its plot
    reports/{title}/{version}/quality.json, quality.svg  every rung's quality against the master

Keys are deterministic, so a retried task writes the same objects, and a task that finds all of
its outputs already stored has nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.catalog import validate_title
from storage.base import validate_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from storage.base import ObjectStore


def work_prefix(title: str, version: str) -> str:
    return validate_key(f"work/{validate_title(title)}/{version}")


def chunk_key(title: str, version: str, index: int, name: str) -> str:
    return validate_key(f"{work_prefix(title, version)}/chunks/{index:05d}/{name}")


def rendition_key(title: str, version: str, name: str) -> str:
    return validate_key(f"{work_prefix(title, version)}/renditions/{name}")


def packaged_prefix(title: str, version: str) -> str:
    return f"{work_prefix(title, version)}/packaged"


def report_key(title: str, version: str, name: str) -> str:
    return validate_key(f"reports/{validate_title(title)}/{version}/{name}")


def chunk_indexes(store: ObjectStore, title: str, version: str) -> list[int]:
    """The chunks that have at least one stored output, in order."""
    prefix = f"{work_prefix(title, version)}/chunks/"
    return sorted({int(key[len(prefix) :].split("/", 1)[0]) for key in store.list(prefix)})


def all_stored(store: ObjectStore, keys: Iterable[str]) -> bool:
    return all(store.exists(key) for key in keys)


def upload(store: ObjectStore, files: Mapping[str, Path]) -> None:
    """Store each local file at its key. Each object is written atomically, so a task killed half
    way leaves whole objects or none; a retry writes the same keys again."""
    for key, path in files.items():
        store.put_file(key, path)


def download(store: ObjectStore, keys: Iterable[str], folder: Path) -> dict[str, Path]:
    """Copy objects into ``folder`` at their keys' paths; returns key -> local path."""
    paths = {}
    for key in keys:
        path = folder / validate_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        store.download(key, path)
        paths[key] = path
    return paths


def clear(store: ObjectStore, title: str, version: str | None = None) -> int:
    """Delete a title's work (one version, or all): once published, it is no longer needed."""
    prefix = f"work/{validate_title(title)}/" + (f"{version}/" if version else "")
    keys = list(store.list(prefix))
    for key in keys:
        store.delete(key)
    return len(keys)
