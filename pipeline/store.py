"""The one place that turns settings into an object store: the CLI, the origin and the tasks
all get theirs here, so ``VODPIPE_STORE`` switches every part of vodpipe at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.local import LocalStore
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from storage.base import ObjectStore


def make_store(settings: Settings) -> ObjectStore:
    if settings.store == "local":
        return LocalStore(settings.data_dir)
    if not settings.s3_bucket:
        raise ConfigError("VODPIPE_STORE=s3 needs VODPIPE_S3_BUCKET")
    from storage.s3 import S3Config, S3Store  # boto3 is imported only when S3 is used

    return S3Store(
        S3Config(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            multipart_threshold=settings.s3_multipart_threshold,
            retry_mode="adaptive" if settings.s3_retry_mode == "adaptive" else "standard",
            max_attempts=settings.s3_max_attempts,
        )
    )
