"""Publish a packaged title folder to the store: every segment first, the manifests last."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packager.package import publish_order

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore


def publish(store: ObjectStore, folder: Path, prefix: str) -> list[str]:
    """Upload ``folder`` under ``prefix``; on failure remove what was written, then re-raise.

    A player that finds a manifest can therefore fetch everything it names, and a failed
    publish leaves no manifest behind.
    """
    written: list[str] = []
    try:
        for path in publish_order(folder):
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            store.put_file(key, path)
            written.append(key)
    except BaseException:
        for key in reversed(written):
            store.delete(key)
        raise
    return written
