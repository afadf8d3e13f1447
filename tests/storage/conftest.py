"""Every store test runs over each store: the local directory and S3 (a real moto server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from storage.local import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore
    from tests.s3_server import S3Server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    server: S3Server = request.getfixturevalue("s3_server")
    return server.new_store()
