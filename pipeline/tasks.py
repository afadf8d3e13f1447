"""Celery tasks: thin and idempotent. Arguments are validated, the work is in ``pipeline.job``."""

from __future__ import annotations

from typing import Any

from encoder.runner import SubprocessRunner
from ingest.catalog import validate_title
from pipeline.celery_app import celery_app
from pipeline.console import progress_printer
from pipeline.job import run_title
from pipeline.settings import current_settings
from pipeline.store import make_store


@celery_app.task(name="vodpipe.process_title")  # type: ignore[untyped-decorator]
def process_title(title: str) -> dict[str, Any]:
    """Encode, package and publish a title that ingest has recorded; returns its status."""
    validate_title(title)
    settings = current_settings()
    store = make_store(settings)
    record = run_title(settings, store, SubprocessRunner(), title, progress_printer(title))
    return {"title": record.title, "status": record.status, "version": record.published_version}
