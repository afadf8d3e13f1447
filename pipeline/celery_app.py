"""The Celery app. With no broker configured it runs tasks eagerly, in-process."""

from __future__ import annotations

from celery import Celery

from pipeline.settings import Settings, current_settings


def make_celery(settings: Settings) -> Celery:
    app = Celery("vodpipe", broker=settings.broker_url or "memory://", include=["pipeline.tasks"])
    app.conf.update(
        task_always_eager=settings.broker_url is None,
        task_eager_propagates=True,
        task_acks_late=True,  # a job survives a worker that dies mid-encode
        worker_prefetch_multiplier=1,  # encodes are long; do not hoard them
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
    )
    return app


celery_app = make_celery(current_settings())
