"""Request coalescing: concurrent misses for one key share one load (one store request)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")


def _consume(task: asyncio.Task[object]) -> None:
    # Every waiter may have gone (clients hung up): read the outcome so asyncio never logs it as lost.
    if not task.cancelled():
        task.exception()


class Coalescer(Generic[T]):
    """At most one load in flight per key; everyone who asks meanwhile awaits the same one.

    The load runs as its own task and each waiter awaits it through ``shield``, so a client that
    disconnects cancels only its own wait, never the load the others are waiting on.
    """

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[T]] = {}
        self.coalesced = 0  # waits that joined a load already in flight

    def pending(self, key: str) -> bool:
        """Whether a load of ``key`` is in flight (so ``run`` would join it)."""
        return key in self._inflight

    async def run(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finish(key, done))
        else:
            self.coalesced += 1
        return await asyncio.shield(task)

    def _finish(self, key: str, task: asyncio.Task[T]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        _consume(task)
