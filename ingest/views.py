"""What the catalog API shows of a title: pure functions from records to JSON-ready dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    }


def playback_urls(origin: str, title: str, version: str) -> dict[str, str]:
    root = f"{origin.rstrip('/')}/media/{title}/{version}"
    return {"hls": f"{root}/master.m3u8", "dash": f"{root}/manifest.mpd"}


def title_view(
    title: str, record: TitleRecord | None, upload: UploadInfo | None, origin: str
) -> dict[str, Any]:
    """A title: its record when there is one, and the upload filling it when one is open."""
    view: dict[str, Any] = {"id": title, "links": {"self": f"/v1/titles/{title}"}}
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


def summary_view(record: TitleRecord) -> dict[str, Any]:
    return {
        "id": record.title,
        "status": record.status,
        "published_version": record.published_version,
        "updated_at": record.updated_at,
        "links": {"self": f"/v1/titles/{record.title}"},
    }
