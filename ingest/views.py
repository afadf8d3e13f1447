"""What the catalog API shows of a title: pure functions from records to JSON-ready dicts."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ingest.options import TitleOptions

if TYPE_CHECKING:
    from ingest.catalog import TitleRecord
    from ingest.uploads import UploadInfo

BUSY = ("encoding", "packaging")  # a job is running: the title cannot be deleted or re-uploaded


def upload_view(info: UploadInfo) -> dict[str, Any]:
    percent = 100.0 if info.length == 0 else round(100 * info.offset / info.length, 1)
    return {
        "id": info.id,
        "url": f"/v1/uploads/{info.id}",
        "offset": info.offset,
        "length": info.length,
        "percent": percent,
        "filename": info.filename,
        "created_at": info.created_at,
        "options": info.options.to_json(),  # what the title gets when this upload completes
    }


def record_options(record: TitleRecord, signed_urls: bool) -> TitleOptions:
    """The options a title's record was ingested with; ``signed_urls``: its access now."""
    codecs = tuple(record.video_codecs) if record.video_codecs is not None else None
    return TitleOptions(record.encryption, signed_urls, record.ladder_mode, codecs)


def title_options(record: TitleRecord | None, upload: UploadInfo | None, signed_urls: bool) -> TitleOptions:
    """The record's options; before the first upload completes, the ones that upload carries."""
    if record is not None:
        return record_options(record, signed_urls)
    chosen = upload.options if upload is not None else TitleOptions()
    return chosen if chosen.signed_urls is not None else replace(chosen, signed_urls=signed_urls)


def playback_urls(origin: str, title: str, version: str) -> dict[str, str]:
    root = f"{origin.rstrip('/')}/media/{title}/{version}"
    return {"hls": f"{root}/master.m3u8", "dash": f"{root}/manifest.mpd"}


def title_view(
    title: str, record: TitleRecord | None, upload: UploadInfo | None, origin: str, signed_urls: bool
) -> dict[str, Any]:
    """A title: its record when there is one, and the upload filling it when one is open.
    ``signed_urls``: whether its media need a signed URL now."""
    view: dict[str, Any] = {
        "id": title,
        "links": {"self": f"/v1/titles/{title}"},
        "options": title_options(record, upload, signed_urls).to_json(),
    }
    if record is None:
        view["status"] = "uploading"
    else:
        view |= {
            "status": record.status,
            "progress": record.progress,
            "error": record.error,
            "master": {"name": record.master_name, "sha256": record.master_sha256},
            "probe": record.probe,
            "ladder": record.ladder,
            "renditions": record.renditions,
            "ladder_mode": record.ladder_mode,
            "per_title": record.per_title,
            "quality": record.quality,
            "version": record.version,
            "published_version": record.published_version,
            "updated_at": record.updated_at,
            "playback": (
                playback_urls(origin, title, record.published_version) if record.published_version else None
            ),
        }
    view["upload"] = upload_view(upload) if upload else None
    return view


def summary_view(record: TitleRecord, signed_urls: bool) -> dict[str, Any]:
    return {
        "id": record.title,
        "status": record.status,
        "options": record_options(record, signed_urls).to_json(),
        "published_version": record.published_version,
        "updated_at": record.updated_at,
        "links": {"self": f"/v1/titles/{record.title}"},
    }
