from __future__ import annotations

from celery.canvas import _chain, chord

from encoder.chunks import Chunk
from pipeline.job import TitlePlan
from pipeline.tasks import TitleTask, canvas, encode_chunk
from vodpipe.errors import FFmpegKilledError, InvalidMasterError, StoreUnavailableError, TransientError


def test_a_chunked_title_fans_out_chunks_and_audio_then_joins_packages_and_publishes() -> None:
    plan = TitlePlan("film", "v1", "chunked", (Chunk(0, 0, 120), Chunk(1, 120, None)))
    signature = canvas(plan)
    assert isinstance(signature, _chain)
    (fan_out,) = signature.tasks  # Celery folds what follows a chord into its body
    assert isinstance(fan_out, chord)
    assert [(t.task, t.args) for t in fan_out.tasks] == [
        ("vodpipe.encode_chunk", ("film", "v1", 0, 0, 120, 2)),
        ("vodpipe.encode_chunk", ("film", "v1", 1, 120, None, 2)),
        ("vodpipe.encode_audio", ("film", "v1")),
    ]
    after = fan_out.body.tasks
    assert [(t.task, t.args) for t in after] == [
        ("vodpipe.assemble", ("film", "v1", 2)),
        ("vodpipe.package", ("film", "v1")),
        ("vodpipe.publish", ("film", "v1")),
    ]
    assert all(t.immutable for t in (*fan_out.tasks, *after))  # no result is passed on


def test_a_single_title_is_one_encode_then_package_and_publish() -> None:
    signature = canvas(TitlePlan("film", "v1", "single", ()))
    assert [t.task for t in signature.tasks] == ["vodpipe.encode_whole", "vodpipe.package", "vodpipe.publish"]


def test_a_per_title_job_analyses_first_and_measures_quality_before_packaging() -> None:
    single = canvas(TitlePlan("film", "v1", "single", (), analyse=True, quality=True))
    assert [t.task for t in single.tasks] == [
        "vodpipe.analyse", "vodpipe.encode_whole", "vodpipe.quality", "vodpipe.package", "vodpipe.publish",
    ]  # fmt: skip
    chunked = canvas(TitlePlan("film", "v1", "chunked", (Chunk(0, 0, 60), Chunk(1, 60, None)), True, True))
    analyse, fan_out = chunked.tasks
    assert analyse.task == "vodpipe.analyse"
    assert isinstance(fan_out, chord)
    assert [t.task for t in fan_out.body.tasks] == [
        "vodpipe.assemble", "vodpipe.quality", "vodpipe.package", "vodpipe.publish",
    ]  # fmt: skip


def test_tasks_survive_a_lost_worker_and_retry_only_transient_errors() -> None:
    assert encode_chunk.acks_late
    assert encode_chunk.reject_on_worker_lost
    assert issubclass(FFmpegKilledError, TitleTask.autoretry_for)
    assert issubclass(StoreUnavailableError, TitleTask.autoretry_for)
    assert issubclass(TransientError, TitleTask.autoretry_for)
    assert not issubclass(InvalidMasterError, TitleTask.autoretry_for)
    assert TitleTask.retry_backoff
