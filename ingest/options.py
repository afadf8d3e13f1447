"""A title's options, chosen when it is created: encryption, signed URLs, ladder mode, codecs.

The same four choices as ``vodpipe ingest --encryption --signed-urls --ladder --codecs``. Absent
means the deployment's default (the settings), as on the command line. They are read here from a
JSON body (``POST /v1/titles``) or from tus ``Upload-Metadata`` (strings), strictly: a wrong type
or value is a 400 naming the field and what it allows. Whether this deployment can honour them
(a key store for encryption, codecs it can encrypt) is the ``OptionsPolicy``'s to say: that needs
the settings, which live in ``pipeline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ingest.catalog import LADDER_MODES
from vodpipe.errors import InvalidFieldError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ingest.catalog import EncryptionMode

FIELDS = ("encryption", "signed_urls", "ladder", "codecs")
SCHEMES: tuple[EncryptionMode, ...] = ("cenc", "cbcs")
CODECS = ("h264", "hevc", "av1")  # encoder.ladder.CODECS; the job's ladder check has the last word
_TRUE_FALSE = {"true": True, "false": False}


@dataclass(frozen=True)
class TitleOptions:
    """What a title was created with; ``None`` (and ``"none"`` encryption) is the default."""

    encryption: EncryptionMode = "none"
    signed_urls: bool | None = None
    ladder_mode: str | None = None
    video_codecs: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's spelling: the request fields, ``null`` where the default applies."""
        return {
            "encryption": None if self.encryption == "none" else self.encryption,
            "signed_urls": self.signed_urls,
            "ladder": self.ladder_mode,
            "codecs": list(self.video_codecs) if self.video_codecs is not None else None,
        }

    def to_metadata(self) -> dict[str, str]:
        """The tus ``Upload-Metadata`` spelling (``options_from_metadata`` reads it): only the
        options chosen, as text."""
        chosen = {
            "encryption": None if self.encryption == "none" else self.encryption,
            "signed_urls": None if self.signed_urls is None else str(self.signed_urls).lower(),
            "ladder": self.ladder_mode,
            "codecs": ",".join(self.video_codecs) if self.video_codecs is not None else None,
        }
        return {key: value for key, value in chosen.items() if value is not None}


def _allowed(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _encryption(value: object) -> EncryptionMode:
    for scheme in SCHEMES:
        if value == scheme:
            return scheme
    if value is None:
        return "none"
    raise InvalidFieldError("encryption", f"must be {_allowed(SCHEMES)} or null (clear), not {value!r}")


def _ladder(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value in LADDER_MODES):
        return value
    allowed = _allowed(LADDER_MODES)
    raise InvalidFieldError("ladder", f"must be {allowed} or null (the default), not {value!r}")


def _codecs(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise InvalidFieldError(
            "codecs", f'must be a non-empty list of codec names, e.g. ["h264", "av1"], not {value!r}'
        )
    unknown = [c for c in value if c not in CODECS]
    if unknown:
        raise InvalidFieldError("codecs", f"{unknown[0]!r} is not a codec: use some of {_allowed(CODECS)}")
    if len(set(value)) != len(value):
        raise InvalidFieldError("codecs", f"names a codec twice: {value!r}")
    return tuple(value)


def _checked(options: TitleOptions) -> TitleOptions:
    """Refuse a combination the job would refuse (``pipeline.protection.refuse_unprotectable``)."""
    if options.encryption != "none" and options.video_codecs and "av1" in options.video_codecs:
        raise InvalidFieldError(
            "codecs",
            f'AV1 cannot be encrypted yet: leave "av1" out of codecs, or set encryption to null '
            f"(got encryption {options.encryption!r})",
        )
    return options


def options_from_json(body: Mapping[str, object]) -> TitleOptions:
    """The options of a ``POST /v1/titles`` body; other fields are not this function's."""
    signed = body.get("signed_urls")
    if signed is not None and not isinstance(signed, bool):
        raise InvalidFieldError("signed_urls", f"must be true, false or null (the default), not {signed!r}")
    return _checked(
        TitleOptions(
            encryption=_encryption(body.get("encryption")),
            signed_urls=signed,
            ladder_mode=_ladder(body.get("ladder")),
            video_codecs=_codecs(body.get("codecs")),
        )
    )


def options_from_metadata(metadata: Mapping[str, str]) -> TitleOptions:
    """The options of tus ``Upload-Metadata``: the same keys, values as text (``signed_urls
    true``, ``codecs h264,av1``); a key without a value is the default, as an absent one."""
    values = {k: v.strip() for k, v in metadata.items() if k in FIELDS and v.strip()}
    signed = values.get("signed_urls")
    if signed is not None and signed not in _TRUE_FALSE:
        raise InvalidFieldError("signed_urls", f'must be "true" or "false", not {signed!r}')
    codecs = values.get("codecs")
    return _checked(
        TitleOptions(
            encryption=_encryption(values.get("encryption")),
            signed_urls=_TRUE_FALSE[signed] if signed is not None else None,
            ladder_mode=_ladder(values.get("ladder")),
            video_codecs=_codecs([c.strip() for c in codecs.split(",")]) if codecs is not None else None,
        )
    )


class OptionsPolicy(Protocol):
    """What of a title's options this deployment can honour, and the access record they set."""

    def check(self, options: TitleOptions) -> None:
        """Raise ``InvalidFieldError`` for options the job would refuse, before anything is stored."""

    def apply(self, title: str, options: TitleOptions) -> None:
        """Record what must hold before anything of the title is published (signed URLs)."""

    def signed_urls(self, title: str) -> bool:
        """Whether the title's media need a signed URL at the origin now."""
        ...

    def forget(self, title: str) -> None:
        """Remove what ``apply`` recorded, once the title's media are gone (a title deleted)."""
