"""The upload and catalog API (``vodpipe api``): titles over JSON, masters over tus 1.0.0.

Routes and their contract are listed in ``ingest.openapi`` (served at ``/v1/openapi.json``).
Header rules live in ``ingest.tus``, upload state in ``ingest.uploads``; the handlers here only
check the caller, move bytes and call those. Errors are ``application/problem+json`` (RFC 9457).

Decisions:
- A bad master is found when the last PATCH completes the upload: that PATCH answers 422 with
  the reason, the uploaded bytes are removed and nothing is recorded (as ``vodpipe ingest``).
- ``DELETE /v1/titles/{id}`` refuses (409) while the title is encoding or packaging: a running
  job would write its media back. Delete it once it is published or failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ingest import tus
from ingest.auth import ApiKeys, bearer_team
from ingest.catalog import Catalog, record_key, validate_title
from ingest.openapi import OPENAPI
from ingest.options import options_from_json, options_from_metadata
from ingest.uploads import BodyInterrupted, Uploads, receive, upload_title
from ingest.views import BUSY, summary_view, title_view
from vodpipe.errors import (
    ConfigError,
    ConflictError,
    ForbiddenError,
    InvalidFieldError,
    RequestError,
    TitleNotFoundError,
    TusVersionError,
    UnauthorizedError,
    VodpipeError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from ingest.options import OptionsPolicy, TitleOptions
    from ingest.uploads import UploadInfo
    from ingest.validate import MasterLimits
    from storage.base import ObjectStore

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("vodpipe.api")
PROBLEM_TYPE = "application/problem+json"
UPLOADS = "/v1/uploads"
PUBLIC = ("/healthz", "/v1/openapi.json")


@dataclass(frozen=True)
class ApiConfig:
    store: ObjectStore
    keys: ApiKeys
    queue: Callable[[str], None]  # starts a title's job (Celery, or a background thread)
    limits: MasterLimits
    origin_url: str  # where players fetch published media
    max_size: int
    uploads: Uploads
    options: OptionsPolicy  # what of a title's options the deployment honours; signed URLs


CONFIG = web.AppKey("api_config", ApiConfig)
TEAM = web.RequestKey("team", str)  # the team whose key the request carries


def _problem(
    request: web.Request, exc: VodpipeError | None, status: int, title: str, detail: str
) -> web.Response:
    body: dict[str, object] = {
        "type": exc.problem_type if exc else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if isinstance(exc, InvalidFieldError):
        body["field"] = exc.field  # an extension member (RFC 9457 §3.2): which field to fix
    headers = {}
    if isinstance(exc, UnauthorizedError):
        headers["WWW-Authenticate"] = exc.challenge  # RFC 9110 §11.6.1, RFC 6750 §3
    if isinstance(exc, TusVersionError):
        headers["Tus-Version"] = tus.TUS_VERSION  # tus core: a 412 lists the versions spoken
    if exc is not None and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    reason = "Checksum Mismatch" if status == 460 else None  # tus checksum extension's phrase
    return web.Response(
        status=status,
        reason=reason,
        body=json.dumps(body).encode(),
        content_type=PROBLEM_TYPE,
        headers=headers,
    )


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except VodpipeError as exc:
        detail = exc.message
        if exc.status >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, exc.message)
            detail = "the object store is unavailable; retry later" if exc.retry_after else "internal error"
        return _problem(request, exc, exc.status, exc.title, detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _problem(request, None, exc.status, exc.reason, exc.reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return _problem(request, None, 500, "Internal error", "the API failed; the error is logged")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # OPTIONS is public: tus capability discovery and CORS preflights carry no credentials.
    if request.path not in PUBLIC and request.method != "OPTIONS":
        request[TEAM] = bearer_team(request.app[CONFIG].keys, request.headers.get("Authorization"))
    return await handler(request)


async def _response_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Cache-Control", "no-store")  # tus core (HEAD); catalog data is live
    if request.path.startswith(UPLOADS):
        response.headers["Tus-Resumable"] = tus.TUS_VERSION  # tus core: on every response


async def _blocking(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


async def healthz(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    await _blocking(config.store.exists, "catalog/health")  # the store answers: StorageError is 503
    return web.json_response({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


# --- titles -----------------------------------------------------------------------------------


async def create_title(request: web.Request) -> web.Response:
    """A title and an open tus upload for its master, from JSON: ``{title?, filename, length}``
    and the title's options (``ingest.options``). Other fields are ignored."""
    try:
        body = await request.json()
    except ValueError:
        raise RequestError('the body must be JSON: {"filename": ..., "length": ..., "title": ...}') from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    metadata = {k: body[k] for k in ("title", "filename") if isinstance(body.get(k), str)}
    options = options_from_json(body)
    length = str(body.get("length")) if "length" in body else None
    info = await _open_upload(request, length, metadata, options)
    view = await _title(request, info.title)
    return web.json_response(view, status=201, headers={"Location": f"/v1/titles/{info.title}"})


async def list_titles(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    try:
        limit = min(int(request.query.get("limit", "100")), 1000)
    except ValueError:
        raise RequestError("limit must be an integer") from None
    after = request.query.get("after", "")

    def page() -> tuple[list[dict[str, Any]], str | None]:
        catalog = Catalog(config.store)
        names = [
            k.removeprefix("catalog/titles/").removesuffix(".json")
            for k in config.store.list("catalog/titles/")
        ]
        names = [n for n in names if n > after]
        records = [r for r in (catalog.find(n) for n in names[:limit]) if r is not None]
        more = names[limit - 1] if len(names) > limit else None
        return [summary_view(r, config.options.signed_urls(r.title)) for r in records], more

    titles, more = await _blocking(page)
    following = f"/v1/titles?limit={limit}&after={more}" if more else None
    return web.json_response({"titles": titles, "next": following})


def _path_title(request: web.Request) -> str:
    title = request.match_info["title"]
    try:
        return validate_title(title)
    except ConfigError:
        raise TitleNotFoundError(
            f"no title {title!r}: ids are lowercase letters, digits, '-' and '_'"
        ) from None


async def _title(request: web.Request, title: str) -> dict[str, Any]:
    config = request.app[CONFIG]
    record = await _blocking(Catalog(config.store).find, title)
    upload = await _blocking(config.uploads.for_title, title)
    if record is None and upload is None:
        raise TitleNotFoundError(f"no title {title!r}")
    signed = await _blocking(config.options.signed_urls, title)
    return title_view(title, record, upload, config.origin_url, signed)


async def get_title(request: web.Request) -> web.Response:
    return web.json_response(await _title(request, _path_title(request)))


async def delete_title(request: web.Request) -> web.Response:
    """Remove the record, the master, the work files, the published media, the reports and the
    access record of a title."""
    config = request.app[CONFIG]
    title = _path_title(request)
    record = await _blocking(Catalog(config.store).find, title)
    upload = await _blocking(config.uploads.for_title, title)
    if record is None and upload is None:
        raise TitleNotFoundError(f"no title {title!r}")
    if record is not None and record.status in BUSY:
        raise ConflictError(f"title {title!r} is {record.status}; delete it once it is published or failed")

    def remove() -> None:
        if upload is not None:
            config.uploads.terminate(upload.id)
        for prefix in (f"media/{title}/", f"work/{title}/", f"masters/{title}/", f"reports/{title}/"):
            for key in list(config.store.list(prefix)):
                config.store.delete(key)
        # After the media: a signed title's objects are never served unsigned in between, and
        # a title made again under this id starts from the deployment's default.
        config.options.forget(title)
        config.store.delete(record_key(title))  # last: a failure part-way leaves a record to retry

    await _blocking(remove)
    log.info("title %s deleted by team %s", title, request[TEAM])
    return web.Response(status=204)


# --- tus uploads ------------------------------------------------------------------------------


async def tus_options(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=tus.capability_headers(request.app[CONFIG].max_size))


async def _open_upload(
    request: web.Request, length_header: str | None, metadata: dict[str, str], options: TitleOptions
) -> UploadInfo:
    config = request.app[CONFIG]
    length = tus.parse_length(length_header, config.max_size)
    try:
        title, filename = upload_title(metadata)
    except ConfigError as exc:  # a title id that breaks the rules is the request's fault
        raise RequestError(exc.message) from None
    # Refused now, not when the last byte arrives: nothing the job would refuse is uploaded.
    await _blocking(config.options.check, options)
    record = await _blocking(Catalog(config.store).find, title)
    if record is not None and record.status in BUSY:
        raise ConflictError(f"title {title!r} is {record.status}; upload a new master once it is done")
    info: UploadInfo = await _blocking(config.uploads.create, length, title, filename, request[TEAM], options)
    log.info("upload %s of %s (%d bytes) opened by team %s", info.id, title, length, info.owner)
    return info


async def create_upload(request: web.Request) -> web.Response:
    """tus creation: ``Upload-Length`` and ``Upload-Metadata`` (``filename``, ``title`` and the
    title's options, as text) -> 201."""
    tus.check_version(request.headers)
    metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    options = options_from_metadata(metadata)
    info = await _open_upload(request, request.headers.get("Upload-Length"), metadata, options)
    headers = {"Location": f"{UPLOADS}/{info.id}", "Upload-Offset": "0", "Vodpipe-Title": info.title}
    return web.Response(status=201, headers=headers)


async def _owned(request: web.Request) -> tuple[UploadInfo, str]:
    tus.check_version(request.headers)
    info, etag = await _blocking(request.app[CONFIG].uploads.get, request.match_info["upload"])
    if info.owner != request[TEAM]:
        raise ForbiddenError(f"upload {info.id} belongs to another team")
    return info, etag


async def upload_offset(request: web.Request) -> web.Response:
    """tus core, HEAD: where to resume."""
    info, _ = await _owned(request)
    headers = {
        "Upload-Offset": str(info.offset),
        "Upload-Length": str(info.length),
        "Vodpipe-Title": info.title,
    }
    return web.Response(status=200, headers=headers)


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.content.iter_any():
            yield chunk
    except (ConnectionError, HttpProcessingError) as exc:  # the client dropped mid-body
        raise BodyInterrupted from exc


async def append(request: web.Request) -> web.Response:
    """tus core, PATCH: bytes at ``Upload-Offset``, checked by ``Upload-Checksum``; the last
    PATCH completes the upload, ingests the master and queues its job."""
    config = request.app[CONFIG]
    info, etag = await _owned(request)
    patch = tus.check_patch(request.headers, info.offset, info.length)
    parts = await receive(config.uploads, info, patch, _body(request))
    info = await _blocking(config.uploads.commit, info, etag, parts)
    headers = {"Upload-Offset": str(info.offset), "Vodpipe-Title": info.title}
    if info.complete:
        outcome = await _blocking(config.uploads.finish, info, config.limits)
        # As `vodpipe ingest`: signed URLs are recorded before the job can publish anything.
        await _blocking(config.options.apply, info.title, info.options)
        if outcome.is_new or outcome.record.status == "ingested":
            await _blocking(config.queue, info.title)
        log.info("upload %s complete: title %s %s", info.id, info.title, outcome.record.status)
    return web.Response(status=204, headers=headers)


async def terminate(request: web.Request) -> web.Response:
    """tus termination: the upload and its bytes are gone; later requests get 404."""
    info, _ = await _owned(request)
    await _blocking(request.app[CONFIG].uploads.terminate, info.id)
    return web.Response(status=204)


def make_api(config: ApiConfig) -> web.Application:
    app = web.Application(middlewares=[problem_middleware, auth_middleware])
    app[CONFIG] = config
    app.on_response_prepare.append(_response_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/openapi.json", openapi)
    app.router.add_post("/v1/titles", create_title)
    app.router.add_get("/v1/titles", list_titles)
    app.router.add_get("/v1/titles/{title}", get_title)
    app.router.add_delete("/v1/titles/{title}", delete_title)
    app.router.add_route("OPTIONS", UPLOADS, tus_options)
    app.router.add_post(UPLOADS, create_upload)
    app.router.add_route("OPTIONS", UPLOADS + "/{upload}", tus_options)
    app.router.add_head(UPLOADS + "/{upload}", upload_offset)
    app.router.add_patch(UPLOADS + "/{upload}", append)
    app.router.add_delete(UPLOADS + "/{upload}", terminate)
    return app
