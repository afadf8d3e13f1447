"""Resumable uploads kept in the object store, so they outlive the API process that took them.

An upload is ``uploads/{id}/info.json`` (length, offset, the parts received so far, who owns it)
and its parts ``uploads/{id}/parts/{offset}-{nonce}``, each at most ``part_size`` bytes. A PATCH
body is read in chunks and written part by part: no more than one part is ever in memory. The
info record is written with compare-and-swap, so two API processes taking PATCHes for the same
upload cannot both advance it; the loser's parts are deleted and it answers 409.

On completion the parts are streamed into one scratch file (PyAV probes files), which ingest's
own code then probes, validates, hashes and stores content-addressed under ``masters/``: on S3
through the transfer manager's multipart upload. Parts are not S3 multipart parts (those must be
5 MiB or more, except the last, and a connection can drop after any byte), so they can be any size.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.catalog import title_from_filename, validate_title
from ingest.options import TitleOptions, options_from_json
from ingest.service import ingest_master
from vodpipe.errors import (
    ChecksumMismatchError,
    InvalidMasterError,
    ObjectNotFoundError,
    PayloadTooLargeError,
    RequestError,
    UploadNotFoundError,
    UploadOffsetError,
    WriteConflictError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ingest.service import IngestOutcome
    from ingest.tus import Patch
    from ingest.validate import MasterLimits
    from storage.base import ObjectStore

PART_SIZE = 8 << 20
_ID = re.compile(r"[0-9a-f]{32}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Part:
    key: str
    offset: int
    size: int


@dataclass(frozen=True)
class UploadInfo:
    id: str
    length: int
    title: str
    filename: str
    owner: str
    offset: int = 0
    parts: tuple[Part, ...] = ()
    created_at: str = field(default_factory=_now)
    options: TitleOptions = field(default_factory=TitleOptions)  # the title's, applied on completion

    @property
    def complete(self) -> bool:
        return self.offset == self.length

    def to_json(self) -> bytes:
        return json.dumps(asdict(self) | {"options": self.options.to_json()}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> UploadInfo:
        data = json.loads(raw)
        data["parts"] = tuple(Part(**p) for p in data["parts"])
        data["options"] = options_from_json(data.get("options") or {})  # none: written before options
        return cls(**data)


def info_key(upload_id: str) -> str:
    return f"uploads/{upload_id}/info.json"


def title_key(title: str) -> str:
    """Which upload is filling a title, so ``GET /v1/titles/{id}`` can show its progress."""
    return f"uploads/by-title/{validate_title(title)}.json"


def upload_title(metadata: dict[str, str]) -> tuple[str, str]:
    """The title and file name an upload's metadata names (the title defaults to the file's)."""
    filename = metadata.get("filename", "").strip()
    name = metadata.get("title", "").strip()
    if not name and not filename:
        raise RequestError("Upload-Metadata must name a 'title' or a 'filename'")
    title = validate_title(name) if name else title_from_filename(filename)
    return title, filename or f"{title}.bin"


def scratch_name(filename: str) -> str:
    """A safe local file name that keeps the extension ingest uses for the master's key."""
    name = _SAFE_NAME.sub("-", Path(filename).name).strip(".-")
    return name or "master.bin"


class Uploads:
    """Upload records and parts in an object store; blocking calls, run off the event loop."""

    def __init__(self, store: ObjectStore, scratch_dir: Path | None, part_size: int = PART_SIZE) -> None:
        self.store = store
        self.scratch_dir = scratch_dir
        self.part_size = part_size

    def create(self, length: int, title: str, filename: str, owner: str, options: TitleOptions) -> UploadInfo:
        info = UploadInfo(secrets.token_hex(16), length, title, filename, owner, options=options)
        self.store.put_if(info_key(info.id), info.to_json(), None, "application/json")
        self.store.put_bytes(title_key(title), json.dumps({"upload": info.id}).encode(), "application/json")
        return info

    def get(self, upload_id: str) -> tuple[UploadInfo, str]:
        if not _ID.fullmatch(upload_id):
            raise UploadNotFoundError(f"no upload {upload_id!r}")
        try:
            raw, etag = self.store.read_versioned(info_key(upload_id))
        except ObjectNotFoundError:
            raise UploadNotFoundError(
                f"no upload {upload_id!r}: finished, terminated or never created"
            ) from None
        return UploadInfo.from_json(raw), etag

    def for_title(self, title: str) -> UploadInfo | None:
        try:
            pointer = json.loads(self.store.get_bytes(title_key(title)))
            return self.get(str(pointer["upload"]))[0]
        except (ObjectNotFoundError, UploadNotFoundError):
            return None

    def write_part(self, upload_id: str, offset: int, data: bytes) -> Part:
        key = f"uploads/{upload_id}/parts/{offset:016d}-{secrets.token_hex(4)}"
        self.store.put_bytes(key, data, "application/octet-stream")
        return Part(key, offset, len(data))

    def discard(self, parts: list[Part]) -> None:
        for part in parts:
            self.store.delete(part.key)

    def commit(self, info: UploadInfo, etag: str, parts: list[Part]) -> UploadInfo:
        """Append ``parts`` to the upload, unless another request advanced it meanwhile (409)."""
        added = sum(p.size for p in parts)
        updated = replace(info, offset=info.offset + added, parts=info.parts + tuple(parts))
        try:
            self.store.put_if(info_key(info.id), updated.to_json(), etag, "application/json")
        except (WriteConflictError, ObjectNotFoundError):
            self.discard(parts)
            raise UploadOffsetError(
                f"upload {info.id} changed while this PATCH ran (another request, or terminated); HEAD it"
            ) from None
        return updated

    def terminate(self, upload_id: str) -> None:
        """Remove the upload's parts, its record and its title pointer (termination extension)."""
        info, _ = self.get(upload_id)
        for key in list(self.store.list(f"uploads/{upload_id}/parts/")):
            self.store.delete(key)
        self.store.delete(info_key(upload_id))
        try:
            pointer = json.loads(self.store.get_bytes(title_key(info.title)))
        except ObjectNotFoundError:
            return
        if pointer.get("upload") == upload_id:
            self.store.delete(title_key(info.title))

    def assemble(self, info: UploadInfo, path: Path) -> None:
        """Stream the parts, in order, into one local file: never more than a chunk in memory."""
        with path.open("wb") as out:
            for part in sorted(info.parts, key=lambda p: p.offset):
                for chunk in self.store.get_stream(part.key):
                    out.write(chunk)
        if path.stat().st_size != info.length:
            raise InvalidMasterError(
                f"upload {info.id} assembled to {path.stat().st_size} of {info.length} bytes"
            )

    def finish(self, info: UploadInfo, limits: MasterLimits) -> IngestOutcome:
        """Probe, validate and store the master as ingest does; the upload is gone either way."""
        folder = Path(tempfile.mkdtemp(prefix=f"vodpipe-upload-{info.id}-", dir=self.scratch_dir))
        try:
            path = folder / scratch_name(info.filename)
            self.assemble(info, path)
            return ingest_master(self.store, path, info.title, limits, info.options)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.terminate(info.id)


class BodyInterrupted(Exception):
    """The client stopped sending mid-body: the connection dropped."""


async def receive(uploads: Uploads, info: UploadInfo, patch: Patch, body: AsyncIterator[bytes]) -> list[Part]:
    """Read a PATCH body into parts and return them. When the body iterator raises
    ``BodyInterrupted`` (the connection dropped) the parts received until then are kept (core
    protocol: the server "SHOULD always attempt to store as much of the received data as
    possible"). If instead the handler is cancelled (aiohttp does this when it sees the drop
    first), this PATCH's parts are discarded: the client resends from the last committed offset,
    so at most one PATCH (8 MiB from ``vodpipe upload``) is sent twice.

    A body that passes the upload's length is refused (413) and one whose digest is wrong is
    refused (460); either way every part written for it is deleted, so the offset stays.
    """
    hasher = hashlib.new(patch.checksum.algorithm) if patch.checksum else None
    buffer = bytearray()
    parts: list[Part] = []
    offset = patch.offset
    whole = True

    async def flush(size: int) -> None:
        nonlocal offset
        data = bytes(buffer[:size])
        del buffer[:size]
        part = await asyncio.to_thread(uploads.write_part, info.id, offset, data)
        parts.append(part)
        offset += part.size

    try:
        chunks = aiter(body)
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except BodyInterrupted:
                whole = False
                break
            if offset - patch.offset + len(buffer) + len(chunk) > patch.limit:
                raise PayloadTooLargeError(f"the body passes Upload-Length {info.length}")
            if hasher:
                hasher.update(chunk)
            buffer += chunk
            while len(buffer) >= uploads.part_size:
                await flush(uploads.part_size)
        if patch.checksum and hasher and (not whole or not patch.checksum.matches(hasher.digest())):
            # Checksum extension: a chunk whose digest does not match (or cannot be checked,
            # because it was cut short) is discarded and the offset stays where it was.
            raise ChecksumMismatchError(
                f"the body's {patch.checksum.algorithm} does not match Upload-Checksum; "
                "the chunk was discarded, send it again"
            )
        if buffer:
            await flush(len(buffer))
    except BaseException:
        await asyncio.to_thread(uploads.discard, parts)
        raise
    return parts
