"""Celery tasks: thin and idempotent. Arguments are validated, the work is in ``pipeline.job``.

The job is a canvas::

    process_title (plan) -> [analyse] -> encode_whole                          -> [quality] -> ...
                         -> [analyse] -> chord(encode_chunk x N, encode_audio) -> assemble -> [quality] -> ...
    ... -> package -> publish

``analyse`` (trial encodes that choose a per-title ladder) runs for per-title titles, ``quality``
(every rung scored against the master) when the quality setting asks for it.

Transient failures (a killed FFmpeg, a store that is down, a chunk not stored yet) are retried
with backoff; any other error fails the title at once with its reason (``on_failure``), and a
chord whose chunk failed never assembles.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from celery import Task, chain, chord
from celery.exceptions import Retry
from celery.result import allow_join_result

from encoder.chunks import Chunk
from encoder.runner import SubprocessRunner
from ingest.catalog import validate_title
from pipeline import analysis, job
from pipeline.celery_app import celery_app
from pipeline.console import progress_printer
from pipeline.settings import current_settings
from pipeline.store import make_store
from vodpipe.errors import StoreUnavailableError, TransientError

QUIET_STAGES = ("analyse", "quality")  # stages whose FFmpeg runs report no progress of their own


class TitleTask(Task):  # type: ignore[misc]
    """A stage of a title's job; the title is always the first argument."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (TransientError, StoreUnavailableError)
    retry_backoff = 2
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 6

    def context(self, title: str) -> job.JobContext:
        settings = current_settings()
        eager = bool(self.request.is_eager)
        threads = 0 if eager else settings.worker_slots(os.cpu_count() or 1)[1]

        def on_stage(stage: str, percent: float) -> None:
            if not eager:  # eager tasks have no result backend to hold their state
                self.update_state(state="PROGRESS", meta={"title": title, stage: percent})
            elif stage in QUIET_STAGES:  # no FFmpeg progress line shows these: say where they are
                print(f"{stage} {title} {percent:5.1f}%", file=sys.stderr, flush=True)

        store = make_store(settings)
        return job.JobContext(settings, store, SubprocessRunner(), threads, progress_printer(title), on_stage)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            if self.request.is_eager:  # an eager task that propagates its error skips on_failure
                self.on_failure(exc, self.request.id, args, kwargs, None)
            raise

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Called once, when the task fails for good (not between retries)."""
        if args:
            job.fail_title(make_store(current_settings()), str(args[0]), exc)


def _summary(title: str, status: str, version: str | None) -> dict[str, Any]:
    return {"title": title, "status": status, "version": version}


def _workers() -> int:
    """How many workers can share chunks: the setting, or those that answer a ping."""
    settings = current_settings()
    if settings.encode_workers:
        return settings.encode_workers
    if settings.broker_url is None:
        return 1
    return max(1, len(celery_app.control.ping(timeout=1.0) or []))


def canvas(plan: job.TitlePlan) -> Any:
    """The signature that encodes, assembles, packages and publishes a planned title."""
    t, v = plan.title, plan.version
    start = [analyse.si(t, v)] if plan.analyse else []
    finish = [
        *([measure_quality.si(t, v)] if plan.quality else []),
        package_title.si(t, v),
        publish_title.si(t, v),
    ]
    if plan.strategy == "single":
        return chain(*start, encode_whole.si(t, v), *finish)
    total = len(plan.chunks)
    header = [encode_chunk.si(t, v, c.index, c.first_frame, c.frames, total) for c in plan.chunks]
    header.append(encode_audio.si(t, v))
    return chain(*start, chord(header, assemble.si(t, v, total)), *finish)


@celery_app.task(name="vodpipe.process_title", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def process_title(self: TitleTask, title: str) -> Any:
    """Plan the title's job and replace this task with it; returns the published summary."""
    validate_title(title)
    ctx = self.context(title)
    plan = job.plan_title(ctx, title, _workers())
    if plan is None:
        record = ctx.catalog.get(title)
        return _summary(title, record.status, record.published_version)
    signature = canvas(plan)
    if self.request.is_eager:  # in-process: run the canvas here and return its end
        with allow_join_result():  # eager results are already there: nothing blocks
            return signature.apply().get()
    return self.replace(signature)


@celery_app.task(name="vodpipe.analyse", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def analyse(self: TitleTask, title: str, version: str) -> None:
    analysis.analyse(self.context(title), title, version)


@celery_app.task(name="vodpipe.quality", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def measure_quality(self: TitleTask, title: str, version: str) -> None:
    analysis.measure_title_quality(self.context(title), title, version)


@celery_app.task(name="vodpipe.encode_whole", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def encode_whole(self: TitleTask, title: str, version: str) -> None:
    job.encode_whole(self.context(title), title, version)


@celery_app.task(name="vodpipe.encode_chunk", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def encode_chunk(
    self: TitleTask, title: str, version: str, index: int, first_frame: int, frames: int | None, total: int
) -> None:
    job.encode_chunk(self.context(title), title, version, Chunk(index, first_frame, frames), total)


@celery_app.task(name="vodpipe.encode_audio", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def encode_audio(self: TitleTask, title: str, version: str) -> None:
    job.encode_audio(self.context(title), title, version)


@celery_app.task(name="vodpipe.assemble", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def assemble(self: TitleTask, title: str, version: str, chunks: int) -> None:
    job.assemble(self.context(title), title, version, chunks)


@celery_app.task(name="vodpipe.package", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def package_title(self: TitleTask, title: str, version: str) -> None:
    job.package_title(self.context(title), title, version)


@celery_app.task(name="vodpipe.publish", base=TitleTask, bind=True)  # type: ignore[untyped-decorator]
def publish_title(self: TitleTask, title: str, version: str) -> dict[str, Any]:
    record = job.publish_title(self.context(title), title, version)
    return _summary(title, record.status, record.published_version)
