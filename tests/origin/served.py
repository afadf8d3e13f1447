"""An origin app served as ``vodpipe serve`` serves it: the fast path in front of aiohttp.

aiohttp's ``TestServer`` listens with aiohttp alone; ``ServedApp`` listens with
``pipeline.serving.start_server``, so the same tests run through the fast path
(``origin.connection``) and the hand-over to aiohttp. ``client`` fixtures take both ("two paths,
one answer", as aiohttp's own functional tests do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp.test_utils import TestServer
from yarl import URL

from pipeline.serving import OriginServer, start_server

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient

PATHS = ["aiohttp", "served"]  # params of the client fixtures


class ServedApp(TestServer):
    origin: OriginServer | None = None

    async def start_server(self, **kwargs: Any) -> None:
        if self.origin is not None:
            return
        self.origin = await start_server(self.app, "127.0.0.1", 0)
        self.runner = self.origin.runner
        self.host, self.port = "127.0.0.1", self.origin.port
        self._root = URL(f"http://127.0.0.1:{self.port}")

    async def close(self) -> None:
        if self.origin is not None and not self.closed:
            await self.origin.close()
            self._root = None
            self.port = None
            self._closed = True


async def serve(aiohttp_client: Any, app: web.Application, path: str) -> TestClient[Any, Any]:
    """A client of ``app`` served by aiohttp alone, or as ``vodpipe serve`` serves it."""
    server = app if path == "aiohttp" else ServedApp(app)
    client: TestClient[Any, Any] = await aiohttp_client(server)
    return client
