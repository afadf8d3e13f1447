"""A title's options (``ingest.options.TitleOptions``) checked and applied the same way for
``vodpipe ingest``/``demo`` and for the upload API: one code path, the settings' to decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.catalog import parse_encryption
from origin.access import access_key, read_signed_urls, write_signed_urls
from pipeline.protection import key_store, refuse_unprotectable
from vodpipe.errors import ConfigError, InvalidFieldError, OptionError

if TYPE_CHECKING:
    import argparse

    from ingest.options import TitleOptions
    from pipeline.settings import Settings
    from storage.base import ObjectStore


def check_title_options(settings: Settings, store: ObjectStore, options: TitleOptions) -> None:
    """Refuse, before anything is stored, options the job would refuse: codecs the ladder cannot
    take, AV1 rungs encrypted, encryption without a key store (``OptionError``, naming the field)."""
    from pipeline.job import settings_ladder  # the encoder's imports only for commands that use it

    try:
        ladder = settings_ladder(settings, options.video_codecs)
    except ConfigError as exc:
        if options.video_codecs is None:
            raise  # the deployment's own ladder or codecs: not the title's fault
        raise OptionError("codecs", exc.message) from None
    try:
        refuse_unprotectable(ladder, options.encryption)
        if options.encryption != "none":
            key_store(settings, store)
    except ConfigError as exc:
        raise OptionError("encryption", exc.message) from None


def apply_title_options(store: ObjectStore, title: str, options: TitleOptions) -> None:
    """Record the title's signed-URL choice (None: unchanged) before anything of it is published,
    so it is never served unsigned by mistake."""
    if options.signed_urls is not None:
        write_signed_urls(store, title, options.signed_urls)


class SettingsOptions:
    """The API's ``OptionsPolicy``: this deployment's settings decide, as for the command line."""

    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self.settings = settings
        self.store = store

    def check(self, options: TitleOptions) -> None:
        try:
            check_title_options(self.settings, self.store, options)
        except OptionError as exc:
            raise InvalidFieldError(exc.field, exc.message) from None

    def apply(self, title: str, options: TitleOptions) -> None:
        apply_title_options(self.store, title, options)

    def signed_urls(self, title: str) -> bool:
        return self.settings.signed_urls or read_signed_urls(self.store, title)

    def forget(self, title: str) -> None:
        self.store.delete(access_key(title))


def add_encryption_argument(parser: argparse.ArgumentParser) -> None:
    """``--encryption [cenc|cbcs]`` as ``vodpipe ingest`` and ``vodpipe upload`` take it."""
    parser.add_argument(
        "--encryption",
        type=parse_encryption,
        nargs="?",
        const="cbcs",
        default="none",
        help="none (default), cenc or cbcs (the default when the flag is given alone)",
    )
