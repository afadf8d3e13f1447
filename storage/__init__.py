"""Object storage: one protocol, a local-directory store (the embedded default)."""

from __future__ import annotations

from storage.base import ObjectInfo, ObjectStore, validate_key
from storage.local import LocalStore

__all__ = ["LocalStore", "ObjectInfo", "ObjectStore", "validate_key"]
