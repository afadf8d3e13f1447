"""The Celery app. With no broker configured it runs tasks eagerly, in-process."""

from __future__ import annotations

from celery import Celery

from pipeline.settings import Settings, current_settings


def make_celery(settings: Settings) -> Celery:
    eager = settings.broker_url is None
    backend = None if eager else settings.result_backend or settings.broker_url
    limit = settings.task_time_limit
    broker = settings.broker_url or "memory://"
    app = Celery("vodpipe", broker=broker, backend=backend, include=["pipeline.tasks"])
    app.conf.update(
        task_always_eager=eager,
        task_eager_propagates=True,
        # A task is acknowledged when it ends, and requeued if its worker dies under it, so a
        # worker killed mid-encode loses no work; tasks are idempotent, so a rerun is harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # encodes are long; do not hoard them
        task_time_limit=limit,
        task_soft_time_limit=max(1, limit - min(60, limit // 10)),  # time to kill FFmpeg cleanly
        task_track_started=True,
        result_extended=True,
        # Redis redelivers an unacknowledged task after this long: how soon the work of a dead
        # worker resumes elsewhere. It must exceed the longest task, or a live one runs twice.
        # Kombu looks for overdue tasks on every tenth tick of this interval (default 10 s, so
        # every 100 s); a short visibility timeout gets a tick to match.
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": min(10, max(1, settings.visibility_timeout // 10)),
        },
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
    )
    return app


celery_app = make_celery(current_settings())
