"""A real S3-compatible HTTP server for tests: moto's server, run as its own process.

Run as ``python -m tests.s3_server PORT``: it binds (``0`` picks a free port), then prints
``listening PORT`` — the readiness handshake, no sleep or polling. The fixtures below start it
in its own process group, keep its log (copied to ``test-artifacts/`` when a test fails), and
kill the group at teardown.

Moto answers one request at a time here (``threaded=False``): its threaded server checks
``If-Match``/``If-None-Match`` and then writes, in two steps without a lock, so two racing
conditional PUTs could both succeed — something S3 itself never allows. Serialising requests
makes moto's conditional writes atomic, as S3's are, so the race tests test vodpipe, not moto.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from storage.s3 import S3Config, S3Store

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


class S3Server:
    """One moto server process; ``stop()`` and ``start()`` again on the same port for outages."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.s3_server", str(self.port)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # its own process group, killed whole at stop()
                cwd=Path(__file__).parents[1],
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the socket listens (or the process dies)
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"moto server did not start: {line!r}; log: {self.log.read_text()[-2000:]}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.proc is None:
            return
        with_group = self.proc.poll() is None
        if with_group:
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def config(self, bucket: str, **options: object) -> S3Config:
        from storage.s3 import S3Config

        return S3Config(bucket=bucket, endpoint_url=self.endpoint_url, **CREDENTIALS, **options)  # type: ignore[arg-type]

    def new_store(self, **options: object) -> S3Store:
        """A store over a new, empty bucket: tests share the server, never a bucket."""
        from storage.s3 import S3Store

        store = S3Store(self.config(f"t-{uuid.uuid4().hex[:20]}", **options))
        store.client.create_bucket(Bucket=store.bucket)
        return store

    def env(self, bucket: str) -> dict[str, str]:
        """The ``VODPIPE_*`` variables that point a ``vodpipe`` process at ``bucket``."""
        return {
            "VODPIPE_STORE": "s3",
            "VODPIPE_S3_BUCKET": bucket,
            "VODPIPE_S3_ENDPOINT_URL": self.endpoint_url,
            "VODPIPE_S3_REGION": CREDENTIALS["region"],
            "VODPIPE_S3_ACCESS_KEY_ID": CREDENTIALS["access_key_id"],
            "VODPIPE_S3_SECRET_ACCESS_KEY": CREDENTIALS["secret_access_key"],
        }


def _keep_log_if_failed(request: pytest.FixtureRequest, server: S3Server) -> None:
    node = request.node
    reports = (getattr(node, f"report_{when}", None) for when in ("setup", "call"))
    failed = any(report is not None and report.failed for report in reports)
    if failed and server.log.exists():
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(server.log, ARTIFACTS / f"{node.name}-s3.log")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One moto server for the session; each test takes its own bucket with ``new_store()``."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_s3_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[S3Server]:
    """A moto server for one test that stops and restarts it (outages)."""
    server = S3Server(tmp_path / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _keep_log_if_failed(request, server)


def main(port: int) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
