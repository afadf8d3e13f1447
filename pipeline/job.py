"""The title job: encode -> package -> publish, with its state in the title record.

Idempotent: the version folder is derived from the master's digest and every setting that
shapes the output, so a retry writes the same keys and a finished version is never redone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from encoder.encode import SourceMedia, plan_job, run_job
from encoder.ladder import Ladder, PlannedRung, SourceGeometry, load_ladder
from ingest.catalog import Catalog, TitleRecord
from ingest.probe import MasterInfo
from packager.package import EncodedTrack, package
from packager.publish import publish
from pipeline.protection import title_encryption, track_classes, version_shape
from vodpipe.errors import InvalidMasterError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from fractions import Fraction

    from encoder.runner import FFmpegRunner, ProgressCallback
    from pipeline.settings import Settings
    from storage.base import ObjectStore


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


def version_id(
    master_sha256: str,
    ladder: Ladder,
    segment_seconds: Fraction,
    start_bitrate: int,
    protection: Mapping[str, str] | None = None,
) -> str:
    """A version folder name that changes whenever the input or the output's shape does
    (``protection``: the encryption mode and what else of it shapes the bytes; none when clear)."""
    shape_of: dict[str, object] = {
        "ladder": asdict(ladder),
        "segment": str(segment_seconds),
        "start_bitrate": start_bitrate,
    }
    if protection:
        shape_of["protection"] = dict(protection)
    shape = json.dumps(shape_of, sort_keys=True)
    return "v" + hashlib.sha256(f"{master_sha256}:{shape}".encode()).hexdigest()[:12]


def _rung_record(rung: PlannedRung) -> dict[str, object]:
    """A planned rung as JSON: the sample aspect ratio as ``num:den``."""
    return {**asdict(rung), "sar": f"{rung.sar.numerator}:{rung.sar.denominator}"}


def media_prefix(title: str, version: str) -> str:
    return f"media/{title}/{version}"


def run_title(
    settings: Settings,
    store: ObjectStore,
    runner: FFmpegRunner,
    title: str,
    on_progress: ProgressCallback | None = None,
) -> TitleRecord:
    catalog = Catalog(store)
    record = catalog.get(title)
    ladder = load_ladder(settings.ladder)
    version = version_id(
        record.master_sha256,
        ladder,
        settings.segment_seconds,
        settings.start_bitrate,
        version_shape(settings, record.encryption),
    )
    if record.status == "published" and record.published_version == version:
        return record
    info = MasterInfo.from_dict(record.probe)
    scratch = Path(tempfile.mkdtemp(prefix=f"vodpipe-{title}-", dir=settings.scratch_dir))
    try:
        master = store.local_path(record.master_key)
        if master is None or not master.is_file():
            master = scratch / f"master{Path(record.master_key).suffix}"
            store.download(record.master_key, master)
        job = plan_job(source_media(master, info), ladder, scratch / "encoded")
        classes = track_classes((r.height for r in job.rungs), bool(info.audio))
        encryption = title_encryption(settings, store, title, record.encryption, classes)
        record = record.with_status(
            "encoding", version=version, error=None, ladder=[_rung_record(r) for r in job.rungs]
        )
        catalog.save(record)
        encoded = run_job(runner, settings.ffmpeg_exe(), job, info.duration, on_progress)

        record = record.with_status("packaging")
        catalog.save(record)
        tracks = [EncodedTrack(r.kind, r.id, r.path, r.language) for r in encoded]
        presentation = package(
            tracks, scratch / "packaged", settings.segment_seconds, settings.start_bitrate, encryption
        )
        publish(store, scratch / "packaged", media_prefix(title, version))

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
        record = record.with_status("published", published_version=version, renditions=renditions)
        catalog.save(record)
        return record
    except VodpipeError as exc:
        catalog.save(record.with_status("failed", error=exc.message))
        raise
    except Exception as exc:  # recorded, then re-raised: the title never stays "encoding"
        catalog.save(record.with_status("failed", error=f"internal error: {type(exc).__name__}: {exc}"))
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
