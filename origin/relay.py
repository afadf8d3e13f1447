"""Relaying a byte range from a remote store (S3) to the client, one chunk at a time.

The store's stream is opened before the response starts, so a missing object or a store that is
down is still a clean 404 or 503; once the status line is sent, a store failure can only cut the
connection short (the client sees fewer bytes than Content-Length and retries).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Generator

    from aiohttp.abc import AbstractStreamWriter

log = logging.getLogger("vodpipe.origin")


class StoreSlice(web.StreamResponse):
    """Send ``chunks`` (a store's ``get_stream``) as the body: at most one chunk in memory."""

    def __init__(
        self, chunks: Generator[bytes, None, None] | None, length: int, status: int, headers: dict[str, str]
    ) -> None:
        super().__init__(status=status, headers=headers)
        self._chunks = chunks
        self.content_length = length

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        if self._chunks is None:
            await super().write_eof()
            return writer
        loop = asyncio.get_running_loop()
        try:
            # Each read blocks on the network, so it runs in the pool; the write waits for the
            # client to drain (aiohttp's flow control), so a slow client slows the reads down.
            while (chunk := await loop.run_in_executor(None, next, self._chunks, None)) is not None:
                await self.write(chunk)
        except Exception:
            log.warning("relay of %s cut short", request.path, exc_info=True)
            raise
        finally:
            await loop.run_in_executor(None, self._chunks.close)
        await super().write_eof()
        return writer
