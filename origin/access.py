"""Which titles need signed URLs: a small private record per title, and the origin's cache of it.

The choice is made at ingest (``vodpipe ingest --signed-urls``) and belongs to the title, not to
one version: a republish does not open it. It is stored apart from ``media/`` (which anyone may
read) and apart from the catalog record (which jobs rewrite all the time) as
``access/{title}.json``, ``{"signed_urls": true}``. It is written before anything of the title is
published, so no moment exists in which its media are served unsigned. No record: served as today.

The origin asks the store at most once per title per ``ttl`` seconds (coalesced, in the thread
pool) and answers every other request from memory; an answer older than ``ttl`` is still given
while it is read again in the background, so a title switched to signed is refused unsigned
within about ``ttl``. If the store fails, the last answer known is kept; with none, the request
fails (503), never served open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from origin.coalesce import Coalescer
from vodpipe.errors import ObjectNotFoundError, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.base import ObjectStore

ACCESS_PREFIX = "access/"
POLICY_TTL = 10.0  # seconds an answer is trusted: as long as a manifest's browser max-age
MAX_TITLES = 10_000  # answers kept; the oldest out first


def access_key(title: str) -> str:
    return f"{ACCESS_PREFIX}{title}.json"


def write_signed_urls(store: ObjectStore, title: str, required: bool) -> None:
    """Record whether ``title`` needs signed URLs (the ingest's ``--[no-]signed-urls``)."""
    body = json.dumps({"signed_urls": required}).encode()
    store.put_bytes(access_key(title), body, "application/json")


def read_signed_urls(store: ObjectStore, title: str) -> bool:
    """Whether ``title`` needs signed URLs; no record means no."""
    try:
        record = json.loads(store.get_bytes(access_key(title)))
    except ObjectNotFoundError:
        return False
    except ValueError:  # unreadable: the safe reading of a record that exists is "signed"
        return True
    return not isinstance(record, dict) or record.get("signed_urls") is not False


class AccessPolicies:
    """Per-title answers to "signed URLs needed?", fresh for ``ttl`` seconds, at most ``limit``."""

    def __init__(
        self,
        store: ObjectStore,
        require_all: bool = False,
        ttl: float = POLICY_TTL,
        limit: int = MAX_TITLES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.require_all = require_all
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._known: OrderedDict[str, tuple[bool, float]] = OrderedDict()  # title -> (answer, when)
        self._loads = Coalescer[bool]()
        self.refreshing: set[asyncio.Future[bool]] = set()  # background re-reads in flight

    def known(self, title: str) -> bool | None:
        """The fresh answer for ``title`` from memory, if there is one: the hot path, no await."""
        if self.require_all:
            return True
        known = self._known.get(title)
        if known is not None and self.clock() - known[1] < self.ttl:
            return known[0]
        return None

    async def requires_signature(self, title: str) -> bool:
        answer = self.known(title)
        if answer is not None:
            return answer
        stale = self._known.get(title)
        if stale is None:  # never asked: wait for the store
            return await self._loads.run(title, lambda: self._refresh(title))
        # Asked before: answer as before and re-read in the background, so no request waits on
        # the store (nor on its retries while it is down).
        task = asyncio.ensure_future(self._loads.run(title, lambda: self._refresh(title)))
        self.refreshing.add(task)
        task.add_done_callback(self._settled)
        return stale[0]

    def _settled(self, task: asyncio.Future[bool]) -> None:
        self.refreshing.discard(task)
        if not task.cancelled():
            task.exception()  # read, so a failed re-read (retried later) is never logged as lost

    async def _refresh(self, title: str) -> bool:
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                None, read_signed_urls, self.store, title
            )
        except StorageError:
            if (known := self._known.get(title)) is None:
                raise
            answer = known[0]  # the store is down: keep what we knew, and try again in ttl seconds
        self._known[title] = (answer, self.clock())
        self._known.move_to_end(title)
        while len(self._known) > self.limit:
            self._known.popitem(last=False)
        return answer
