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

import asyncio
import os
import shutil
import tempfile
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

    from origin.trace import Trace

PREFIX = "vodpipe_origin"
# A fast origin answers a cached manifest in well under a millisecond; a large segment to a slow
# client takes seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CACHE_LABELS = (("hot", "hit"), ("hot", "miss"), ("disk", "hit"), ("disk", "miss"))


@dataclass
class _Pending:
    """Counts recorded since the last flush."""

    requests: dict[tuple[int, str], int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)  # per-bucket counts, then the sum
    cache: list[int] = field(default_factory=lambda: [0] * len(CACHE_LABELS))
    coalesced: int = 0
    store_errors: int = 0


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
        self._cache = [self.cache.labels(*labels) for labels in CACHE_LABELS]
        self._pending = _Pending()
        self._flush_scheduled = False

    def record(self, status: int, kind: str, sent: int, seconds: float, trace: Trace | None) -> None:
        """Count one finished response (called by the access logger, on the event loop).

        Only plain dict and list arithmetic here: the counts go into prometheus_client (locks,
        and in multiprocess mode memory-mapped files) once per loop iteration, summed, so under
        load many responses cost one update per series.
        """
        pending = self._pending
        requests = pending.requests
        requests[status, kind] = requests.get((status, kind), 0) + 1
        if sent:
            pending.bytes[kind] = pending.bytes.get(kind, 0) + sent
        bins = pending.latency.get(kind)
        if bins is None:
            bins = pending.latency[kind] = [0.0] * (len(LATENCY_BUCKETS) + 2)  # buckets, +Inf, sum
        bins[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # the first bucket with seconds <= le
        bins[-1] += seconds
        if trace is not None:
            cache = pending.cache
            if trace.cache == "hot":
                cache[0] += 1
            elif trace.cache is not None:
                cache[1] += 1
                if self.disk_cache:
                    cache[2 if trace.cache == "disk" else 3] += 1
            pending.coalesced += trace.coalesced
            pending.store_errors += trace.store_error
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Add what was recorded since the last flush to the metrics."""
        self._flush_scheduled = False
        pending, self._pending = self._pending, _Pending()
        for (status, kind), count in pending.requests.items():
            counter = self._requests.get((status, kind))
            if counter is None:
                counter = self._requests[status, kind] = self.requests.labels(str(status), kind)
            counter.inc(count)
        for kind, sent in pending.bytes.items():
            counter = self._bytes.get(kind)
            if counter is None:
                counter = self._bytes[kind] = self.bytes.labels(kind)
            counter.inc(sent)
        for kind, bins in pending.latency.items():
            histogram = self._latency.get(kind)
            if histogram is None:
                histogram = self._latency[kind] = self.latency.labels(kind)
            # Many observations at once: prometheus_client has no public call for that, so its
            # per-bucket values (non-cumulative, one per upper bound, +Inf last) get the counts.
            histogram._sum.inc(bins[-1])
            for bucket, observed in zip(histogram._buckets, bins[:-1], strict=True):
                if observed:
                    bucket.inc(observed)
        for child, lookups in zip(self._cache, pending.cache, strict=True):
            if lookups:
                child.inc(lookups)
        if pending.coalesced:
            self.coalesced.inc(pending.coalesced)
        if pending.store_errors:
            self.store_errors.inc(pending.store_errors)

    def exposition(self) -> bytes:
        """The text format (version 0.0.4) of every metric; with workers, summed over all of them."""
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        self.flush()  # this process's latest counts; other workers flush every loop iteration
        if self.multiprocess_dir is None:
            return generate_latest(self._own)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def worker_exited(multiprocess_dir: Path, pid: int) -> None:
    """The supervisor's bookkeeping when a worker dies (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(multiprocess_dir))  # type: ignore[no-untyped-call]


FOLDER_PREFIX = "vodpipe-metrics-"


def metrics_folder(parent: Path | None = None) -> Path:
    """A fresh private folder (mode 0700) for one supervisor's workers, named after its pid.

    Folders left by supervisors that are gone (SIGKILLed, so their own cleanup never ran) are
    removed first: only this user's, and only where the pid in the name no longer runs.
    """
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    for folder in parent.glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and folder.is_dir() and folder.stat().st_uid == os.getuid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
