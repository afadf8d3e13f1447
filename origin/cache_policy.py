"""Every Cache-Control decision of the origin, in one place (RFC 9111, RFC 9213, RFC 5861).

Segments never change (a republish writes a new version folder), so browsers and edges keep
them for a year. Manifests get a short browser lifetime and a longer edge lifetime, both allowed
to be served stale while revalidating or while the origin errs. Errors are cached briefly (404,
so an edge absorbs a storm of misses) or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from origin.kinds import CacheClass

YEAR = 31_536_000


@dataclass(frozen=True)
class CachePolicy:
    manifest_max_age: int = 10
    manifest_edge_max_age: int = 60
    stale_while_revalidate: int = 30
    stale_if_error: int = 86_400
    not_found_max_age: int = 10

    def for_content(self, cache: CacheClass) -> dict[str, str]:
        if cache is CacheClass.IMMUTABLE:
            value = f"public, max-age={YEAR}, immutable"
            return {"Cache-Control": value, "CDN-Cache-Control": f"public, max-age={YEAR}"}
        stale = f"stale-while-revalidate={self.stale_while_revalidate}, stale-if-error={self.stale_if_error}"
        return {
            "Cache-Control": f"public, max-age={self.manifest_max_age}, {stale}",
            "CDN-Cache-Control": f"public, max-age={self.manifest_edge_max_age}, {stale}",
        }

    def for_error(self, status: int) -> dict[str, str]:
        if status == 404:
            value = f"public, max-age={self.not_found_max_age}"
            return {"Cache-Control": value, "CDN-Cache-Control": value}
        return {"Cache-Control": "no-store", "CDN-Cache-Control": "no-store"}
