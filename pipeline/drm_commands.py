"""The key, token and license commands: ``vodpipe keys ...``, ``vodpipe token``, ``vodpipe license-server``.

Secrets come from settings only; no command prints a key-encryption key, a token secret or a
content key. A new key-encryption key is read from a file (or stdin), never from the command line,
where other users could read it in the process list.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from drm.cpix import export_cpix, import_cpix, load_certificate, load_private_key
from drm.keystore import ObjectKeyStore
from drm.license import LicenseService
from drm.tokens import issue_token
from ingest.catalog import validate_title
from origin.app import make_license_app
from origin.cache_policy import CachePolicy
from pipeline.serving import log_audit_to_stderr, run_until_signalled
from pipeline.settings import Settings, key_256
from pipeline.store import make_store
from vodpipe.errors import ConfigError, KeyNotFoundError, VodpipeError

if TYPE_CHECKING:
    import argparse

    from drm.keystore import KeyStore

DEFAULT_LICENSE_PORT = 8081


def _key_store(settings: Settings) -> ObjectKeyStore:
    kek = settings.key_encryption_key
    return ObjectKeyStore(make_store(settings), kek.reveal() if kek else None)


def _token_secret(settings: Settings) -> bytes | None:
    return settings.token_secret.reveal() if settings.token_secret else None


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    print(issue_token(_token_secret(settings), validate_title(args.title), args.ttl))
    return 0


def cmd_license_server(settings: Settings, args: argparse.Namespace) -> int:
    secret = _token_secret(settings)
    if secret is None:
        raise ConfigError("the license server needs VODPIPE_TOKEN_SECRET (at least 32 random bytes)")
    service = LicenseService(_key_store(settings), secret)
    app = make_license_app(CachePolicy(settings.manifest_max_age, settings.manifest_edge_max_age), service)
    host = args.host or settings.host
    log_audit_to_stderr()

    def announce(bound: int) -> None:
        print(f"license: http://{host}:{bound}/license/clearkey", flush=True)

    asyncio.run(run_until_signalled(app, host, args.port, announce))
    return 0


def cmd_keys_list(settings: Settings, args: argparse.Namespace) -> int:
    for stored in _key_store(settings).keys_for_title(validate_title(args.title)):
        print(f"{stored.key.kid_hex}  {stored.key.kid_uuid}  {stored.key.track_class}")
    return 0


def _read_new_kek(source: str) -> bytes:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    try:
        return key_256(text).reveal()
    except ValueError as exc:
        raise ConfigError(f"the new key-encryption key in {source}: {exc}") from None


def cmd_keys_rotate_kek(settings: Settings, args: argparse.Namespace) -> int:
    count = _key_store(settings).rotate_kek(_read_new_kek(args.new_kek_file))
    note = f"re-wrapped {count} key records: set VODPIPE_KEY_ENCRYPTION_KEY to the new key now"
    print(note, file=sys.stderr)
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    """Whole or nothing: a failed export leaves no partial document behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_keys_export(settings: Settings, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    # The HLS AES-128 variant's key is served by our own license route, not by a DRM vendor.
    stored = [s for s in _key_store(settings).keys_for_title(title) if s.key.track_class != "aes128"]
    if not stored:
        raise KeyNotFoundError(f"title {title!r} has no content keys")
    document = export_cpix([s.key for s in stored], load_certificate(Path(args.cpix)), content_id=title)
    if args.output:
        _write_atomically(Path(args.output), document)
        print(f"wrote {len(stored)} keys of {title} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(document)
    return 0


def _check_owner(keys: KeyStore, title: str, kid: bytes) -> None:
    try:
        owner = keys.get(kid).title
    except KeyNotFoundError:
        return
    if owner != title:
        raise VodpipeError(f"KID {kid.hex()} already belongs to title {owner!r}; nothing was imported")


def cmd_keys_import(settings: Settings, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    keys = _key_store(settings)
    imported = import_cpix(Path(args.file).read_bytes(), load_private_key(Path(args.key)))
    for key in imported:  # all checked before any is written
        _check_owner(keys, title, key.kid)
    for key in imported:
        keys.put(title, key)
        print(f"{key.kid_hex}  {key.kid_uuid}  {key.track_class}")
    print(f"imported {len(imported)} keys for {title}", file=sys.stderr)
    return 0


def add_drm_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("token", help="print an entitlement token for a title's keys")
    p.add_argument("title")
    p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("license-server", help="run the ClearKey license server alone")
    p.add_argument("--host")
    p.add_argument("--port", type=int, default=DEFAULT_LICENSE_PORT, help="(default 8081; 0 picks one)")
    p.set_defaults(func=cmd_license_server)

    p = sub.add_parser("keys", help="content keys: list, export and import (CPIX), rotate the KEK")
    keys = p.add_subparsers(dest="keys", required=True)
    k = keys.add_parser("list", help="a title's KIDs and track classes (never the keys)")
    k.add_argument("title")
    k.set_defaults(func=cmd_keys_list)
    k = keys.add_parser("rotate-kek", help="re-wrap every key record under a new key-encryption key")
    k.add_argument("--new-kek-file", required=True, help="file with the new KEK, hex or base64 ('-': stdin)")
    k.set_defaults(func=cmd_keys_rotate_kek)
    k = keys.add_parser("export", help="write a title's keys as CPIX, encrypted to a recipient")
    k.add_argument("title")
    k.add_argument("--cpix", required=True, metavar="CERT", help="the recipient's X.509 certificate (PEM)")
    k.add_argument("-o", "--output", help="file to write (default: stdout)")
    k.set_defaults(func=cmd_keys_export)
    k = keys.add_parser("import", help="read a CPIX document's keys into the key store")
    k.add_argument("file")
    k.add_argument("--key", required=True, help="the recipient's RSA private key (PEM)")
    k.add_argument("--title", required=True)
    k.set_defaults(func=cmd_keys_import)
