"""One error tree for the whole product.

Each class carries the HTTP status and RFC 9457 problem type that the origin's middleware uses,
and the message is the one line that the command line prints. Messages say what was wrong and
what to do about it.
"""

from __future__ import annotations

from typing import ClassVar


class VodpipeError(Exception):
    """Root of every error vodpipe reports to a user."""

    status: ClassVar[int] = 500
    problem_type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Internal error"
    retry_after: ClassVar[int | None] = None  # seconds; sent as Retry-After (RFC 9110 §10.2.3)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.title


class ConfigError(VodpipeError, ValueError):
    """A setting or ladder file is invalid."""

    problem_type = "https://vodpipe.dev/problems/config"
    title = "Invalid configuration"


class OptionError(ConfigError):
    """A title's option this deployment cannot honour (``--encryption`` without a key store,
    AV1 rungs encrypted); ``field`` names it as the API spells it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidMasterError(VodpipeError, ValueError):
    """The uploaded master cannot be used: missing, not media, corrupt, out of bounds."""

    status = 422
    problem_type = "https://vodpipe.dev/problems/invalid-master"
    title = "Invalid master"


class TransientError(VodpipeError):
    """Worth retrying: the same work may succeed later (a killed process, a store that is down).

    Celery tasks retry these with backoff; every other error fails the title at once.
    """

    status = 503


class EncodeError(VodpipeError, RuntimeError):
    """FFmpeg failed; the message carries the last lines of its stderr."""

    problem_type = "https://vodpipe.dev/problems/encode-failed"
    title = "Encode failed"


class FFmpegKilledError(EncodeError, TransientError):
    """FFmpeg was killed by a signal (out of memory, a host shutting down), not by its input."""


class PackagingError(VodpipeError, ValueError):
    """The encoded media cannot be packaged (misaligned keyframes, malformed boxes)."""

    problem_type = "https://vodpipe.dev/problems/packaging-failed"
    title = "Packaging failed"


class BoxParseError(PackagingError):
    """An ISO-BMFF box is truncated, malformed or of an unsupported version."""

    def __init__(self, fourcc: str, offset: int, reason: str) -> None:
        super().__init__(f"box '{fourcc}' at offset {offset}: {reason}")
        self.fourcc = fourcc
        self.offset = offset


class StorageError(VodpipeError, OSError):
    """The object store failed or an object is missing.

    Over HTTP a store failure is the origin's backend failing, not the origin: 503 with
    Retry-After, so a CDN serves stale or retries, never a 500.
    """

    status = 503
    problem_type = "https://vodpipe.dev/problems/storage"
    title = "Storage error"
    retry_after: ClassVar[int | None] = 5


class ObjectNotFoundError(StorageError, KeyError):
    status = 404
    retry_after = None
    problem_type = "https://vodpipe.dev/problems/not-found"
    title = "Not found"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class StoreUnavailableError(StorageError, ConnectionError):
    """The store is unreachable or answered 5xx after retries: transient, worth retrying later."""

    status = 503
    problem_type = "https://vodpipe.dev/problems/store-unavailable"
    title = "Store unavailable"


class WriteConflictError(StorageError):
    """A conditional write lost: the object changed (or appeared) since it was read."""

    status = 409
    problem_type = "https://vodpipe.dev/problems/write-conflict"
    title = "Write conflict"
    retry_after = None


class TitleNotFoundError(VodpipeError, LookupError):
    status = 404
    problem_type = "https://vodpipe.dev/problems/title-not-found"
    title = "Title not found"


class RequestError(VodpipeError, ValueError):
    """A malformed HTTP request."""

    status = 400
    problem_type = "https://vodpipe.dev/problems/bad-request"
    title = "Bad request"


class InvalidFieldError(RequestError):
    """One field of a request is wrong: the message names it and says what it allows."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class KeyStoreError(VodpipeError, RuntimeError):
    """The key store cannot open a record: no key-encryption key, the wrong one, or a tampered record."""

    problem_type = "https://vodpipe.dev/problems/key-store"
    title = "Key store error"


class KeyNotFoundError(VodpipeError, LookupError):
    """No content key with the KID asked for."""

    status = 404
    problem_type = "https://vodpipe.dev/problems/unknown-key"
    title = "Unknown key"


class UnauthorizedError(VodpipeError, PermissionError):
    """No valid entitlement token: missing, expired or forged (RFC 6750 §3 challenge attached)."""

    status = 401
    problem_type = "https://vodpipe.dev/problems/unauthorized"
    title = "Unauthorized"

    def __init__(self, message: str, error: str | None = "invalid_token") -> None:
        super().__init__(message)
        # RFC 6750 §3: a request without credentials gets a bare challenge, no error code.
        self.challenge = 'Bearer realm="vodpipe"' + (f', error="{error}"' if error else "")


class ForbiddenError(VodpipeError, PermissionError):
    """A valid token that does not entitle this request (another title's keys)."""

    status = 403
    problem_type = "https://vodpipe.dev/problems/forbidden"
    title = "Forbidden"


class SignedUrlError(ForbiddenError):
    """A request for a title that needs signed URLs whose signature is missing, malformed,
    expired, forged or for another path; the message says which, never anything of the key."""

    problem_type = "https://vodpipe.dev/problems/signed-url"
    title = "Signed URL refused"


class SigningKeyMissingError(ConfigError):
    """A title needs signed URLs but this origin has no signing key: refused, never served open."""

    status = 503


class CpixError(VodpipeError, ValueError):
    """A CPIX document that cannot be read: malformed, wrong recipient, or a MAC that does not verify."""

    problem_type = "https://vodpipe.dev/problems/cpix"
    title = "Invalid CPIX document"


class ConflictError(VodpipeError):
    """The request conflicts with the resource's state (a title that is encoding cannot be deleted)."""

    status = 409
    problem_type = "https://vodpipe.dev/problems/conflict"
    title = "Conflict"


class UploadOffsetError(ConflictError):
    """A tus PATCH whose ``Upload-Offset`` is not the upload's offset (tus 1.0.0 core, PATCH)."""

    problem_type = "https://vodpipe.dev/problems/upload-offset"
    title = "Upload offset mismatch"


class ChecksumMismatchError(VodpipeError, ValueError):
    """A tus PATCH body whose digest differs from its ``Upload-Checksum``: the chunk is discarded."""

    status = 460  # tus 1.0.0, checksum extension: "460 Checksum Mismatch"
    problem_type = "https://vodpipe.dev/problems/checksum-mismatch"
    title = "Checksum mismatch"


class UnsupportedMediaTypeError(RequestError):
    status = 415
    problem_type = "https://vodpipe.dev/problems/unsupported-media-type"
    title = "Unsupported media type"


class PayloadTooLargeError(RequestError):
    status = 413
    problem_type = "https://vodpipe.dev/problems/too-large"
    title = "Payload too large"


class TusVersionError(VodpipeError, ValueError):
    """A request without ``Tus-Resumable: 1.0.0`` (tus 1.0.0 core: 412, with ``Tus-Version``)."""

    status = 412
    problem_type = "https://vodpipe.dev/problems/tus-version"
    title = "Unsupported tus version"


class UploadNotFoundError(VodpipeError, LookupError):
    """No upload with this id: never created, finished, or terminated."""

    status = 404
    problem_type = "https://vodpipe.dev/problems/upload-not-found"
    title = "Upload not found"
