from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pipeline.settings import Settings
from pipeline.store import make_store
from storage.local import LocalStore
from storage.s3 import S3Store
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


def test_the_local_store_is_the_default(tmp_path: Path) -> None:
    store = make_store(Settings.from_env({"VODPIPE_DATA_DIR": str(tmp_path)}))
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path.resolve()


def test_s3_settings_reach_the_client() -> None:
    store = make_store(
        Settings.from_env(
            {
                "VODPIPE_STORE": "s3",
                "VODPIPE_S3_BUCKET": "vod",
                "VODPIPE_S3_ENDPOINT_URL": "http://minio.internal:9000",
                "VODPIPE_S3_REGION": "eu-west-1",
                "VODPIPE_S3_RETRY_MODE": "adaptive",
                "VODPIPE_S3_MAX_ATTEMPTS": "7",
                "VODPIPE_S3_MULTIPART_THRESHOLD": str(16 << 20),
            }
        )
    )
    assert isinstance(store, S3Store)
    assert store.bucket == "vod"
    assert store.client.meta.endpoint_url == "http://minio.internal:9000"
    assert store.client.meta.region_name == "eu-west-1"
    assert store.client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert store.transfer.multipart_threshold == 16 << 20


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ConfigError, match="VODPIPE_STORE=s3 needs VODPIPE_S3_BUCKET"):
        make_store(Settings.from_env({"VODPIPE_STORE": "s3"}))
