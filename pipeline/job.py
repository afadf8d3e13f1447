"""The title job, stage by stage: plan -> encode (whole, or chunks + audio) -> assemble -> package
-> publish, with its state in the title record.

Each stage reads its inputs from the object store and writes its outputs to deterministic keys
under ``work/{title}/{version}/``, so stages can run on different hosts and a retried stage
rewrites the same keys (or finds them done and skips). The version folder is derived from the
master's digest and every setting that shapes the output, so a finished version is never redone.
The Celery tasks in ``pipeline.tasks`` are thin wrappers over these functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drm.license import aes128_key_uri
from encoder.chunks import Chunk, ChunkPolicy, Strategy, choose_strategy
from encoder.encode import (
    EncodedRendition,
    SourceMedia,
    audio_renditions,
    plan_job,
    run_audio,
    run_chunk,
    run_job,
    video_renditions,
)
from encoder.join import join_chunks
from encoder.ladder import Ladder, PlannedRung, SourceGeometry, load_ladder, with_codecs
from encoder.per_title import PerTitleOptions, PerTitlePlan
from ingest.catalog import Catalog, TitleRecord
from ingest.probe import MasterInfo
from packager import aes128
from packager.package import EncodedTrack, package
from packager.publish import publish
from pipeline.protection import (
    refuse_unprotectable,
    title_aes128,
    title_encryption,
    track_classes,
    version_shape,
)
from pipeline.workspace import (
    all_stored,
    chunk_key,
    clear,
    packaged_prefix,
    rendition_key,
    report_key,
    work_prefix,
)
from vodpipe.errors import InvalidMasterError, TransientError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from fractions import Fraction

    from drm.keys import ContentKey
    from encoder.ffmpeg_args import EncodeJob
    from encoder.runner import FFmpegRunner, ProgressCallback
    from pipeline.settings import Settings
    from storage.base import ObjectStore

PRESENTATION = "presentation.json"  # written last by the package stage: its done marker
PLAN = "plan.json"  # the per-title plan, under report_key: written last by the analyse stage


def source_media(path: Path, info: MasterInfo) -> SourceMedia:
    video = info.video
    if video is None:
        raise InvalidMasterError("master has no video stream")
    return SourceMedia(
        path=path,
        geometry=SourceGeometry(video.width, video.height, video.sar, video.rotation),
        frame_rate=video.rate,
        duration=info.duration,
        variable_frame_rate=video.variable_frame_rate,
        interlaced=video.interlaced,
        hdr=video.hdr,
        audio_languages=tuple(a.language for a in info.audio),
    )


def ladder_shape(ladder: Ladder) -> dict[str, object]:
    """The ladder as JSON for the version id; what only other codecs or capped CRF use is left out
    of a plain H.264 ladder, so that its titles keep the version ids they had before those existed."""
    shape = asdict(ladder)
    codecs = {r.codec for r in ladder.rungs}
    for rung in shape["rungs"]:
        if rung["codec"] == "h264":
            del rung["codec"]
        if rung["crf"] is None:  # capped CRF is per-title's; a fixed ladder's rungs have none
            del rung["crf"]
    for codec, field in (("av1", "av1_preset"), ("hevc", "hevc_preset")):
        if codec not in codecs:
            del shape[field]
    return shape


def version_id(
    master_sha256: str,
    ladder: Ladder,
    segment_seconds: Fraction,
    start_bitrate: int,
    protection: Mapping[str, str] | None = None,
    per_title: Mapping[str, object] | None = None,
) -> str:
    """A version folder name that changes whenever the input or the output's shape does
    (``protection``: the encryption mode and what else of it shapes the bytes; none when clear;
    ``per_title``: the per-title options when the ladder is chosen per title, none when fixed)."""
    shape_of: dict[str, object] = {
        "ladder": ladder_shape(ladder),
        "segment": str(segment_seconds),
        "start_bitrate": start_bitrate,
    }
    if protection:
        shape_of["protection"] = dict(protection)
    if per_title:
        shape_of["per_title"] = dict(per_title)
    shape = json.dumps(shape_of, sort_keys=True)
    return "v" + hashlib.sha256(f"{master_sha256}:{shape}".encode()).hexdigest()[:12]


def rung_record(rung: PlannedRung) -> dict[str, object]:
    """A planned rung as JSON: the sample aspect ratio as ``num:den``."""
    return {**asdict(rung), "sar": f"{rung.sar.numerator}:{rung.sar.denominator}"}


def media_prefix(title: str, version: str) -> str:
    return f"media/{title}/{version}"


StageProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class JobContext:
    """What every stage runs with: settings, the store, FFmpeg, and where progress goes."""

    settings: Settings
    store: ObjectStore
    runner: FFmpegRunner
    ffmpeg_threads: int = 0  # 0: FFmpeg's own choice
    on_ffmpeg_progress: ProgressCallback | None = None
    on_stage_progress: StageProgress | None = None

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.store)


@dataclass(frozen=True)
class TitlePlan:
    title: str
    version: str
    strategy: Strategy
    chunks: tuple[Chunk, ...]
    analyse: bool = False  # a per-title ladder: trial encodes choose the rungs before encoding
    quality: bool = False  # the rungs' quality is measured against the master before packaging


def update_title(ctx: JobContext, title: str, **changes: Any) -> TitleRecord:
    """Compare-and-swap ``changes`` onto the title record; progress entries are merged, so
    chunk tasks that finish at the same moment on different hosts lose no update."""

    def change(record: TitleRecord) -> TitleRecord:
        fields = dict(changes)
        if "progress" in fields:
            fields["progress"] = {**record.progress, **fields["progress"]}
        status = fields.pop("status", record.status)
        return record.with_status(status, **fields)

    return ctx.catalog.update(title, change)


def report(ctx: JobContext, title: str, stage: str, percent: float) -> None:
    update_title(ctx, title, progress={stage: round(percent, 1)})
    if ctx.on_stage_progress is not None:
        ctx.on_stage_progress(stage, percent)


def fail_title(store: ObjectStore, title: str, exc: BaseException) -> None:
    """Record why the title failed, so it never stays 'encoding'."""
    internal = f"internal error: {type(exc).__name__}: {exc}"
    reason = exc.message if isinstance(exc, VodpipeError) else internal
    catalog = Catalog(store)
    if catalog.find(title) is not None:
        catalog.update(title, lambda record: record.with_status("failed", error=reason))


def base_ladder(settings: Settings) -> Ladder:
    """The ladder file (or the default) as written: what a per-title analysis starts from."""
    return load_ladder(settings.ladder)


def codec_ladder(settings: Settings, ladder: Ladder, codecs: Sequence[str] | None = None) -> Ladder:
    """``ladder`` with a rung set per codec of ``codecs`` (a title's own), else ``VIDEO_CODECS``."""
    factors = {"av1": settings.av1_bitrate_factor, "hevc": settings.hevc_bitrate_factor}
    return with_codecs(ladder, tuple(codecs) if codecs is not None else settings.video_codecs, factors)


def settings_ladder(settings: Settings, codecs: Sequence[str] | None = None) -> Ladder:
    """The fixed ladder the settings name, with its codec twins (``codecs``: the title's)."""
    return codec_ladder(settings, base_ladder(settings), codecs)


def ladder_mode(settings: Settings, record: TitleRecord) -> str:
    """The title's own mode (chosen at ingest), else the setting's."""
    return record.ladder_mode or settings.ladder_mode


def per_title_options(settings: Settings) -> PerTitleOptions:
    return PerTitleOptions(
        top_vmaf=settings.per_title_top_vmaf,
        vmaf_step=settings.per_title_vmaf_step,
        max_bitrate=settings.per_title_max_bitrate,
        min_bitrate=settings.per_title_min_bitrate,
        min_vmaf=settings.per_title_min_vmaf,
        min_height=settings.per_title_min_height,
    )


def measures_quality(settings: Settings, mode: str) -> bool:
    return settings.quality == "on" or (settings.quality == "auto" and mode == "per-title")


def title_stages(analyse: bool, quality: bool) -> tuple[str, ...]:
    return (
        *(("analyse",) if analyse else ()),
        "encode",
        "assemble",
        *(("quality",) if quality else ()),
        "package",
        "publish",
    )


def title_ladder(ctx: JobContext, record: TitleRecord, version: str) -> Ladder:
    """The ladder a version encodes: the setting's, or the one its per-title plan chose."""
    if ladder_mode(ctx.settings, record) != "per-title":
        return settings_ladder(ctx.settings, record.video_codecs)
    key = report_key(record.title, version, PLAN)
    if not ctx.store.exists(key):
        raise TransientError(f"the per-title plan of {record.title} {version} is not in the store yet")
    plan = PerTitlePlan.from_json(ctx.store.get_bytes(key).decode())
    return codec_ladder(ctx.settings, plan.ladder, record.video_codecs)


def _encode_job(
    ctx: JobContext, record: TitleRecord, master: Path, out_dir: Path, ladder: Ladder | None = None
) -> EncodeJob:
    info = MasterInfo.from_dict(record.probe)
    chosen = ladder or settings_ladder(ctx.settings, record.video_codecs)
    job = plan_job(source_media(master, info), chosen, out_dir)
    return replace(job, threads=ctx.ffmpeg_threads)


def version_encode_job(
    ctx: JobContext, record: TitleRecord, version: str, master: Path, out_dir: Path
) -> EncodeJob:
    return _encode_job(ctx, record, master, out_dir, title_ladder(ctx, record, version))


def plan_title(ctx: JobContext, title: str, workers: int) -> TitlePlan | None:
    """Choose how to encode and record the job as started; None when it is published already.

    A per-title ladder is not known yet: chunks are cut by the base ladder's GOP, which the
    per-title ladder keeps.
    """
    record = ctx.catalog.get(title)
    settings = ctx.settings
    chosen = settings_ladder(settings, record.video_codecs)
    refuse_unprotectable(chosen, record.encryption)  # a worker's codecs may differ from ingest's
    mode = ladder_mode(settings, record)
    per_title = {"mode": mode, **asdict(per_title_options(settings))} if mode == "per-title" else None
    version = version_id(
        record.master_sha256,
        chosen,
        settings.segment_seconds,
        settings.start_bitrate,
        version_shape(settings, record.encryption),
        per_title,
    )
    if record.status == "published" and record.published_version == version:
        return None
    info = MasterInfo.from_dict(record.probe)
    job = _encode_job(ctx, record, Path("master"), Path("out"))
    frames = info.video.frame_count if info.video else 0
    strategy, chunks = choose_strategy(job, frames, workers, ChunkPolicy(ctx.settings.chunk_seconds))
    ladder = [rung_record(r) for r in job.rungs] if per_title is None else []
    analyse, quality = per_title is not None, measures_quality(settings, mode)
    progress = dict.fromkeys(title_stages(analyse, quality), 0.0)
    ctx.catalog.update(
        title,
        lambda r: r.with_status(
            "encoding", version=version, error=None, ladder=ladder, progress=progress, per_title=None,
            quality=None,
        ),
    )  # fmt: skip
    return TitlePlan(title, version, strategy, chunks, analyse, quality)


@contextmanager
def scratch_dir(ctx: JobContext, title: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"vodpipe-{title}-", dir=ctx.settings.scratch_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def local_master(ctx: JobContext, record: TitleRecord) -> Path:
    """The master as a local file: the store's own, or a copy cached on this host by digest."""
    local = ctx.store.local_path(record.master_key)
    if local is not None and local.is_file():
        return local
    cache = Path(ctx.settings.scratch_dir or tempfile.gettempdir()) / "vodpipe-masters"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{record.master_sha256}{Path(record.master_key).suffix}"
    if not path.is_file():
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        ctx.store.download(record.master_key, partial)
        partial.replace(path)  # atomic: concurrent tasks on this host see all of it or nothing
    return path


def _renditions(job: EncodeJob) -> list[EncodedRendition]:
    return video_renditions(job) + audio_renditions(job)


def encode_whole(ctx: JobContext, title: str, version: str) -> None:
    """One FFmpeg decodes the master once and encodes every rung and the audio."""
    record = ctx.catalog.get(title)
    with scratch_dir(ctx, title) as scratch:
        job = version_encode_job(ctx, record, version, local_master(ctx, record), scratch)
        names = [r.path.name for r in _renditions(job)]
        keys = [rendition_key(title, version, n) for n in names]
        if not all_stored(ctx.store, keys):
            info = MasterInfo.from_dict(record.probe)
            for rendition in run_job(ctx.runner, _exe(ctx), job, info.duration, ctx.on_ffmpeg_progress):
                ctx.store.put_file(rendition_key(title, version, rendition.path.name), rendition.path)
    report(ctx, title, "encode", 100.0)
    report(ctx, title, "assemble", 100.0)


def _exe(ctx: JobContext) -> str:
    return ctx.settings.ffmpeg_exe()


def encode_chunk(ctx: JobContext, title: str, version: str, chunk: Chunk, total: int) -> None:
    """Encode one chunk's video into every rung; outputs at ``work/.../chunks/{index}/``."""
    record = ctx.catalog.get(title)
    with scratch_dir(ctx, title) as scratch:
        job = version_encode_job(ctx, record, version, local_master(ctx, record), scratch)
        keys = [chunk_key(title, version, chunk.index, r.path.name) for r in video_renditions(job)]
        if not all_stored(ctx.store, keys):
            info = MasterInfo.from_dict(record.probe)
            start = float(chunk.first_frame / job.frame_rate)
            seconds = None if chunk.frames else info.duration - start  # the last chunk's length
            progress = ctx.on_ffmpeg_progress
            for rendition in run_chunk(ctx.runner, _exe(ctx), job, chunk, progress, seconds):
                key = chunk_key(title, version, chunk.index, rendition.path.name)
                ctx.store.put_file(key, rendition.path)
    done = sum(1 for k in ctx.store.list(f"{work_prefix(title, version)}/chunks/") if k.endswith(".mp4"))
    report(ctx, title, "encode", 100.0 * done / max(1, total * len(job.rungs)))


def encode_audio(ctx: JobContext, title: str, version: str) -> None:
    """Every audio stream, whole, straight to its rendition key."""
    record = ctx.catalog.get(title)
    info = MasterInfo.from_dict(record.probe)
    with scratch_dir(ctx, title) as scratch:
        job = version_encode_job(ctx, record, version, local_master(ctx, record), scratch)
        keys = [rendition_key(title, version, r.path.name) for r in audio_renditions(job)]
        if not all_stored(ctx.store, keys):
            for rendition in run_audio(ctx.runner, _exe(ctx), job, info.duration):
                ctx.store.put_file(rendition_key(title, version, rendition.path.name), rendition.path)


def assemble(ctx: JobContext, title: str, version: str, chunk_count: int) -> None:
    """Join each rung's chunks, in order, into its rendition."""
    record = ctx.catalog.get(title)
    report(ctx, title, "encode", 100.0)
    with scratch_dir(ctx, title) as scratch:
        job = version_encode_job(ctx, record, version, Path("master"), scratch)
        rungs = video_renditions(job)
        for done, rendition in enumerate(rungs):
            name = rendition.path.name
            key = rendition_key(title, version, name)
            if ctx.store.exists(key):
                continue
            parts = []
            for index in range(chunk_count):
                part = chunk_key(title, version, index, name)
                if not ctx.store.exists(part):  # a redelivered chunk task has not finished yet
                    raise TransientError(f"chunk {index} of {name} is not in the store yet")
                local = scratch / f"{index:05d}-{name}"
                ctx.store.download(part, local)
                parts.append(local)
            joined = scratch / name
            join_chunks(parts, joined)
            ctx.store.put_file(key, joined)
            for local in parts:
                local.unlink()
            report(ctx, title, "assemble", 100.0 * (done + 1) / len(rungs))
    report(ctx, title, "assemble", 100.0)


def _package_aes128(
    ctx: JobContext, tracks: list[EncodedTrack], scratch: Path, out: Path, key: ContentKey
) -> None:
    """The HLS AES-128 variant set: the clear CMAF segments (packaged again, without sample
    encryption; the cuts are the same) encrypted whole into ``out``."""
    clear_dir = scratch / "clear"
    settings = ctx.settings
    presentation = package(tracks, clear_dir, settings.segment_seconds, settings.start_bitrate)
    uri = aes128_key_uri(settings.license_base_url(), key.kid)
    aes128.write_variant(presentation, clear_dir, out, key, uri, settings.start_bitrate)


def package_title(ctx: JobContext, title: str, version: str) -> None:
    """Cut the renditions into CMAF segments and write the manifests, under ``work/.../packaged``."""
    done_key = f"{work_prefix(title, version)}/{PRESENTATION}"
    if ctx.store.exists(done_key):
        return
    record = ctx.catalog.get(title)
    update_title(ctx, title, status="packaging")
    with scratch_dir(ctx, title) as scratch:
        job = version_encode_job(ctx, record, version, Path("master"), scratch / "encoded")
        job.out_dir.mkdir()
        tracks = []
        for r in _renditions(job):
            ctx.store.download(rendition_key(title, version, r.path.name), r.path)
            tracks.append(EncodedTrack(r.kind, r.id, r.path, r.language))
        out = scratch / "packaged"
        classes = track_classes((r.height for r in job.rungs), bool(job.audio))
        # Keys are stored (wrapped) before anything is packaged with them.
        encryption = title_encryption(ctx.settings, ctx.store, title, record.encryption, classes)
        variant_key = title_aes128(ctx.settings, ctx.store, title, record.encryption)
        presentation = package(
            tracks, out, ctx.settings.segment_seconds, ctx.settings.start_bitrate, encryption
        )
        if variant_key is not None:
            _package_aes128(ctx, tracks, scratch, out, variant_key)
        prefix = packaged_prefix(title, version)
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            ctx.store.put_file(f"{prefix}/{path.relative_to(out).as_posix()}", path)
    renditions = [
        {
            "kind": r.kind,
            "id": r.id,
            "codec": r.codec,
            "width": r.width,
            "height": r.height,
            "bandwidth": r.peak_bitrate,
            "average_bandwidth": r.average_bitrate,
            "duration": float(r.duration),
            "segments": len(r.segments),
            "language": r.language,
        }
        for r in (*presentation.video, *presentation.audio)
    ]
    ctx.store.put_bytes(done_key, json.dumps(renditions, sort_keys=True).encode(), "application/json")
    report(ctx, title, "package", 100.0)


def publish_title(ctx: JobContext, title: str, version: str) -> TitleRecord:
    """Copy the packaged title to ``media/``: segments first, manifests last."""
    renditions = json.loads(ctx.store.get_bytes(f"{work_prefix(title, version)}/{PRESENTATION}"))
    prefix = packaged_prefix(title, version) + "/"
    with scratch_dir(ctx, title) as scratch:
        for key in ctx.store.list(prefix):
            local = scratch / key[len(prefix) :]
            local.parent.mkdir(parents=True, exist_ok=True)
            ctx.store.download(key, local)
        publish(ctx.store, scratch, media_prefix(title, version))
    record = update_title(
        ctx,
        title,
        status="published",
        published_version=version,
        renditions=renditions,
        progress=dict.fromkeys(ctx.catalog.get(title).progress, 100.0),
    )
    clear(ctx.store, title, version)  # intermediate files: the published version is final
    return record
