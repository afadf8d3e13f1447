"""Title records under concurrent writers: compare-and-swap, on the local store and on S3."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from ingest.catalog import Catalog, TitleRecord
from storage.local import LocalStore
from vodpipe.errors import TitleNotFoundError, WriteConflictError

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore
    from storage.s3 import S3Config
    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration  # the S3 half talks to a real server process
UPDATES = 8  # per writer


def _record(title: str = "race") -> TitleRecord:
    return TitleRecord(title, "encoding", f"masters/{title}/x.mp4", "x", "x.mp4", {})


@pytest.fixture(params=["local", "s3"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Path | S3Config:
    """How to open the same store again (in another thread or process): a folder or an S3 config."""
    if request.param == "local":
        return tmp_path / "store"
    server: S3Server = request.getfixturevalue("s3_server")
    return server.config(server.new_store().bucket)


def open_store(spec: Path | S3Config) -> ObjectStore:
    from storage.s3 import S3Config, S3Store

    return S3Store(spec) if isinstance(spec, S3Config) else LocalStore(spec)


def bump_progress(record: TitleRecord, stage: str) -> TitleRecord:
    """Read-modify-write of one field: a lost update would leave the count short."""
    return replace(record, progress={**record.progress, stage: record.progress.get(stage, 0) + 1})


def add_rendition(record: TitleRecord, writer: str, n: int) -> TitleRecord:
    return replace(record, renditions=[*record.renditions, {"id": f"{writer}-{n}"}])


def writer(spec: Path | S3Config, name: str, start: threading.Barrier | None = None) -> None:
    """One writer: half of them bump a progress counter, the others append renditions."""
    catalog = Catalog(open_store(spec))
    if start is not None:
        start.wait()  # everyone begins together, so the writes overlap
    for n in range(UPDATES):
        if name.startswith("p"):
            catalog.update("race", lambda r: bump_progress(r, name))
        else:
            catalog.update("race", lambda r, n=n: add_rendition(r, name, n))


def assert_nothing_lost(catalog: Catalog, names: list[str]) -> None:
    final = catalog.get("race")
    assert final.progress == {n: UPDATES for n in names if n.startswith("p")}
    expected = {f"{n}-{i}" for n in names if n.startswith("r") for i in range(UPDATES)}
    ids = [r["id"] for r in final.renditions]
    assert sorted(ids) == sorted(expected)  # each exactly once: none lost, none doubled
    assert final.status == "encoding"  # fields nobody touched are kept


def test_threads_lose_no_update(spec: Path | S3Config) -> None:
    catalog = Catalog(open_store(spec))
    catalog.save(_record())
    names = ["p0", "p1", "r0", "r1"]
    start = threading.Barrier(len(names))
    with ThreadPoolExecutor(len(names)) as pool:
        for future in [pool.submit(writer, spec, name, start) for name in names]:
            future.result()
    assert_nothing_lost(catalog, names)


def test_processes_lose_no_update(spec: Path | S3Config) -> None:
    catalog = Catalog(open_store(spec))
    catalog.save(_record())
    names = ["p0", "p1", "r0"]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded pytest
    procs = [context.Process(target=writer, args=(spec, name)) for name in names]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    assert [proc.exitcode for proc in procs] == [0] * len(names)
    assert_nothing_lost(catalog, names)


def test_a_write_in_between_is_merged_not_lost(spec: Path | S3Config) -> None:
    """A forced interleaving: another writer commits while ``change`` runs; CAS must notice."""
    catalog = Catalog(open_store(spec))
    catalog.save(_record())
    calls: list[int] = []

    def slow_change(record: TitleRecord) -> TitleRecord:
        calls.append(len(record.renditions))
        if len(calls) == 1:  # the other writer gets in after our read, before our write
            Catalog(open_store(spec)).update("race", lambda r: add_rendition(r, "other", 0))
        return bump_progress(record, "package")

    final = catalog.update("race", slow_change)
    assert calls == [0, 1]  # re-read and re-applied after the conflict
    assert final.progress == {"package": 1}
    assert [r["id"] for r in catalog.get("race").renditions] == ["other-0"]


def test_create_and_missing_titles(spec: Path | S3Config) -> None:
    catalog = Catalog(open_store(spec))
    with pytest.raises(TitleNotFoundError, match="no title 'race'"):
        catalog.update("race", lambda r: r)
    assert catalog.find("race") is None
    created = catalog.upsert("race", lambda current: current or _record())
    assert catalog.get("race") == created
    with pytest.raises(ValueError, match="returned the record of 'other'"):
        catalog.update("race", lambda r: replace(r, title="other"))


def test_gives_up_when_the_record_never_settles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog(LocalStore(tmp_path))
    catalog.save(_record())
    monkeypatch.setattr("ingest.catalog.MAX_ATTEMPTS", 3)
    rivals = Catalog(LocalStore(tmp_path))

    def always_overtaken(record: TitleRecord) -> TitleRecord:
        rivals.update("race", lambda r: bump_progress(r, "rival"))
        return bump_progress(record, "mine")

    with pytest.raises(WriteConflictError, match="kept changing: gave up after 3 tries"):
        catalog.update("race", always_overtaken)
    assert catalog.get("race").progress == {"rival": 3}
