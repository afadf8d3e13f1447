"""The origin's signed-URL check: a middleware in front of ``/media/``, and signed manifests.

For a title that needs signed URLs (``origin.access``), every ``/media/`` request must carry a
valid signature (``origin.signing``), else 403 ``application/problem+json`` saying why. Paths
are checked first, as for any request, so an unsafe path is still a 404 that touches nothing.
Titles that need no signature pass straight through to ``serve_media`` and its caches.

A signed title's manifests are rewritten per request so that the URIs they name carry the same
signature (``origin.rewrite``; the parse is cached per manifest version). Its responses are
``Cache-Control: private`` and ``CDN-Cache-Control: no-store``: a shared cache keyed on the path
(the edge tier of ``vodpipe edge-config``, most CDN defaults) must neither keep one viewer's signed
manifest for another nor answer an unsigned request from what a signed one fetched. An edge that
checks signatures itself may cache them; that is its configuration, not the origin's promise.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from origin.kinds import DASH_MPD, HLS_PLAYLIST, classify
from origin.media import SOURCE_KEY
from origin.negotiation import IDENTITY
from origin.paths import media_key
from origin.problems import POLICY_KEY
from origin.rewrite import Template, dash_template, hls_template
from origin.signing import verify
from vodpipe.errors import SigningKeyMissingError

if TYPE_CHECKING:
    from collections.abc import Callable

    from origin.access import AccessPolicies
    from origin.problems import Handler
    from origin.signing import Grant

TEMPLATES_KEPT = 256  # parsed manifests kept (by key and ETag); a version's manifests never change


@dataclass
class UrlSigning:
    """The origin's signing key (none: signed titles are refused with 503) and who needs it."""

    key: bytes | None
    policies: AccessPolicies
    clock: Callable[[], float] = time.time
    templates: OrderedDict[tuple[str, str], Template] = field(default_factory=OrderedDict)

    def template(self, key: str, etag: str, body: bytes) -> Template:
        found = self.templates.get((key, etag))
        if found is None:
            parse = hls_template if classify(key) is HLS_PLAYLIST else dash_template
            found = parse(body, "/" + key)
            self.templates[(key, etag)] = found
            while len(self.templates) > TEMPLATES_KEPT:
                self.templates.popitem(last=False)
        self.templates.move_to_end((key, etag))
        return found


SIGNING_KEY = web.AppKey("url_signing", UrlSigning)


def _private(grant: Grant, now: float, max_age: int) -> dict[str, str]:
    """Browsers may keep it while the signature lasts (and the object's own lifetime); shared caches
    may not keep it at all (RFC 9111 §5.2.2.7, RFC 9213 §2)."""
    seconds = max(0, min(max_age, int(grant.expires - now)))
    return {"Cache-Control": f"private, max-age={seconds}", "CDN-Cache-Control": "no-store"}


async def _signed_manifest(request: web.Request, key: str, grant: Grant, now: float) -> web.Response:
    signing = request.app[SIGNING_KEY]
    source = request.app[SOURCE_KEY]
    kind = classify(key)
    entry = source.cached(key) or await source.load(key, kind)
    identity = entry.representations[IDENTITY]
    body = identity.body
    if body is None:  # a manifest too large to hold: read it (rare; MANIFEST_MAX is 16 MiB)
        body = await asyncio.get_running_loop().run_in_executor(None, source.store.get_bytes, key)
    rendered = signing.template(key, identity.etag, body).render(grant)
    # The body depends on the query, so the object's ETag and validators do not describe it.
    max_age = request.app[POLICY_KEY].manifest_max_age
    headers = {"Content-Type": kind.content_type, "Vary": "Accept-Encoding", **_private(grant, now, max_age)}
    response = web.Response(body=rendered, headers=headers)
    response.enable_compression()  # per request, from Accept-Encoding: the body is per viewer
    return response


# The title of a /media/ path, when it is a plain name (as origin.paths requires of every segment).
_TITLE = re.compile(r"/media/([A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)/")


def title_of(raw_path: str) -> str | None:
    """The title a ``/media/`` path belongs to; None when it names none (such a path is a 404)."""
    match = _TITLE.match(raw_path)
    return None if match is None else match.group(1)


@web.middleware
async def signed_url_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    title = title_of(request.raw_path)
    if title is None or request.method == "OPTIONS":
        return await handler(request)  # not a title's media: served, or refused, as before
    signing = request.app[SIGNING_KEY]
    required = signing.policies.known(title)  # a title seen in the last seconds: no await
    if required is None:
        required = await signing.policies.requires_signature(title)
    if not required:
        return await handler(request)
    key = media_key(request.raw_path)  # an unsafe path is a 404 before the signature is looked at
    if signing.key is None:
        raise SigningKeyMissingError(
            f"title {title!r} needs signed URLs and this origin has no VODPIPE_URL_SIGNING_KEY"
        )
    now = signing.clock()
    query = {name: request.query.getall(name) for name in request.query}
    grant = verify(signing.key, "/" + key, query, now)
    if classify(key) in (HLS_PLAYLIST, DASH_MPD) and request.method in ("GET", "HEAD"):
        return await _signed_manifest(request, key, grant, now)
    response = await handler(request)
    response.headers.update(_private(grant, now, 31_536_000))  # immutable: a year at most
    return response
