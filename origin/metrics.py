"""The origin's Prometheus metrics (``prometheus_client``): what ``GET /metrics`` exposes.

One ``OriginMetrics`` per app, on a registry of its own (so several apps in one test process do
not collide). ``vodpipe serve --workers N`` runs N processes; there the supervisor gives every
worker one fresh folder and prometheus_client's multiprocess mode keeps each worker's values in
memory-mapped files in it, so a scrape answered by any worker sums them all (dead workers'
counts included). That mode is chosen when prometheus_client is first imported, from
``PROMETHEUS_MULTIPROC_DIR``, which is why this module imports it only when metrics are made:
the supervisor sets the variable before the workers fork and import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from prometheus_client import Counter, Histogram

    from origin.trace import Trace

PREFIX = "vodpipe_origin"
# A fast origin answers a cached manifest in well under a millisecond; a large segment to a slow
# client takes seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class OriginMetrics:
    def __init__(self, multiprocess_dir: Path | None = None, disk_cache: bool = False) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, values

        if multiprocess_dir is not None and values.ValueClass is values.MutexValue:
            raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")
        self.multiprocess_dir = multiprocess_dir
        self.disk_cache = disk_cache  # disk hits and misses are counted only where there is one
        self._own = CollectorRegistry()
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Responses sent, by status code and object kind.",
            ["status", "kind"],
            registry=self._own,
        )
        self.bytes = Counter(
            f"{PREFIX}_response_bytes",
            "Body bytes sent (Content-Length of each response; none for HEAD, 304), by kind.",
            ["kind"],
            registry=self._own,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "From the request parsed to the last byte handed to the kernel, by kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self._own,
        )
        self.cache = Counter(
            f"{PREFIX}_cache_lookups",
            "Media object lookups by cache tier (hot: memory, disk: the S3 disk cache) and result.",
            ["tier", "result"],
            registry=self._own,
        )
        self.coalesced = Counter(
            f"{PREFIX}_coalesced_waits",
            "Requests that waited for a load another request had started (one store request for all).",
            registry=self._own,
        )
        self.store_errors = Counter(
            f"{PREFIX}_store_errors",
            "Requests the object store failed, answered 503 with Retry-After.",
            registry=self._own,
        )
        # Children by label values, made once: labels() takes a lock and builds a tuple each call.
        self._requests: dict[tuple[int, str], Counter] = {}
        self._bytes: dict[str, Counter] = {}
        self._latency: dict[str, Histogram] = {}
        self._hot_hit = self.cache.labels("hot", "hit")
        self._hot_miss = self.cache.labels("hot", "miss")
        self._disk_hit = self.cache.labels("disk", "hit")
        self._disk_miss = self.cache.labels("disk", "miss")

    def record(self, status: int, kind: str, sent: int, seconds: float, trace: Trace | None) -> None:
        """Count one finished response (called by the access logger, on the event loop)."""
        counter = self._requests.get((status, kind))
        if counter is None:
            counter = self._requests[status, kind] = self.requests.labels(str(status), kind)
        counter.inc()
        if sent:
            sent_counter = self._bytes.get(kind)
            if sent_counter is None:
                sent_counter = self._bytes[kind] = self.bytes.labels(kind)
            sent_counter.inc(sent)
        histogram = self._latency.get(kind)
        if histogram is None:
            histogram = self._latency[kind] = self.latency.labels(kind)
        histogram.observe(seconds)
        if trace is None:
            return
        if trace.cache == "hot":
            self._hot_hit.inc()
        elif trace.cache is not None:
            self._hot_miss.inc()
            if self.disk_cache:
                (self._disk_hit if trace.cache == "disk" else self._disk_miss).inc()
        if trace.coalesced:
            self.coalesced.inc()
        if trace.store_error:
            self.store_errors.inc()

    def exposition(self) -> bytes:
        """The text format (version 0.0.4) of every metric; with workers, summed over all of them."""
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        if self.multiprocess_dir is None:
            return generate_latest(self._own)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def worker_exited(multiprocess_dir: Path, pid: int) -> None:
    """The supervisor's bookkeeping when a worker dies (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(multiprocess_dir))  # type: ignore[no-untyped-call]
