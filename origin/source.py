"""Where the origin's objects come from: memory, then the disk cache, then the store.

A hit in memory is answered on the event loop with no store call. A miss runs in the thread
pool once per key however many requests wait for it (coalescing), and looks at the disk cache
(remote stores only) before the store, so an object cached there is served while the store is down.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from origin.coalesce import Coalescer
from origin.hot import HotCache, HotEntry, build_entry, holds
from origin.trace import Cache, current

if TYPE_CHECKING:
    from origin.cache_policy import CachePolicy
    from origin.disk_cache import DiskCache
    from origin.kinds import Kind
    from storage.base import ObjectStore


class ObjectSource:
    def __init__(
        self, store: ObjectStore, policy: CachePolicy, hot: HotCache, disk: DiskCache | None = None
    ) -> None:
        self.store = store
        self.policy = policy
        self.hot = hot
        self.disk = disk
        self.loads = Coalescer[tuple[HotEntry, Cache]]()

    def cached(self, key: str) -> HotEntry | None:
        entry = self.hot.get(key)
        if entry is not None:
            current().cache = "hot"
        return entry

    def forget(self, key: str) -> None:
        """Drop a cached entry whose file went away (deleted, or evicted from the disk cache)."""
        self.hot.forget(key)

    async def load(self, key: str, kind: Kind) -> HotEntry:
        async def miss() -> tuple[HotEntry, Cache]:
            loaded = await asyncio.get_running_loop().run_in_executor(None, self._load, key, kind)
            self.hot.put(loaded[0])
            return loaded

        trace = current()
        trace.cache = "miss"  # until the load says where it found the object (or fails)
        trace.coalesced = self.loads.pending(key)
        entry, trace.cache = await self.loads.run(key, miss)
        return entry

    def _load(self, key: str, kind: Kind) -> tuple[HotEntry, Cache]:
        """In the pool: the object's validators, its bytes when small, or a file to send; and
        where they came from (the disk cache, or the store)."""
        local = self.store.local_path(key)  # resolved and checked once per object, here
        disk = self.disk if local is None else None  # local files need no copy
        if disk is not None and (found := disk.lookup(key)) is not None:
            cached, copy = found
            data = copy.read_bytes() if holds(kind, cached.size) else None
            return build_entry(cached, kind, data, None if data is not None else copy, self.policy), "disk"
        info = self.store.stat(key)
        if holds(kind, info.size):
            data = self.store.get_bytes(key)
            if disk is not None:  # kept on disk too, so it outlives a store outage and a restart
                disk.fill(info, lambda tmp: tmp.write_bytes(data))
            return build_entry(info, kind, data, None, self.policy), "miss"
        if disk is not None and disk.accepts(info.size):
            local = disk.fill(info, lambda tmp: self.store.download(key, tmp))
        return build_entry(info, kind, None, local, self.policy), "miss"  # no path: relayed from the store
