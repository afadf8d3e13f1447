"""Which titles need signed URLs: the private record, and the origin's cached, fail-closed reading."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from origin.access import AccessPolicies, access_key, read_signed_urls, write_signed_urls
from storage.local import LocalStore
from vodpipe.errors import StoreUnavailableError

if TYPE_CHECKING:
    from pathlib import Path


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FlakyStore(LocalStore):
    """A local store that counts reads and can be switched off like an S3 outage."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0
        self.down = False

    def get_bytes(self, key: str) -> bytes:
        self.reads += 1
        if self.down:
            raise StoreUnavailableError("store down")
        return super().get_bytes(key)


@pytest.fixture
def store(tmp_path: Path) -> FlakyStore:
    return FlakyStore(tmp_path)


@pytest.mark.parametrize(
    ("body", "required"),
    [
        (b'{"signed_urls": true}', True),
        (b'{"signed_urls": false}', False),
        (b"not json", True),  # a record that exists but cannot be read: the safe answer
        (b"[]", True),
        (b'{"signed_urls": 0}', True),  # only an explicit false opens a title
    ],
    ids=["true", "false", "garbage", "not-object", "zero"],
)
def test_the_record_is_read_fail_closed(store: FlakyStore, body: bytes, required: bool) -> None:
    store.put_bytes(access_key("t"), body)
    assert read_signed_urls(store, "t") is required


def test_no_record_means_no_signature_and_the_record_is_private(store: FlakyStore) -> None:
    assert read_signed_urls(store, "t") is False
    write_signed_urls(store, "t", True)
    assert access_key("t") == "access/t.json"
    assert read_signed_urls(store, "t") is True
    assert (store.root / "access" / "t.json").stat().st_mode & 0o077 == 0  # owner-only, like catalog/


async def test_answers_are_cached_for_the_ttl_then_read_again(store: FlakyStore) -> None:
    clock = Clock()
    policies = AccessPolicies(store, ttl=10, clock=clock)
    assert await policies.requires_signature("t") is False
    write_signed_urls(store, "t", True)
    clock.now += 9.9
    assert await policies.requires_signature("t") is False  # still the cached answer
    assert store.reads == 1
    clock.now += 0.1
    assert await policies.requires_signature("t") is False  # stale: answered, and read again
    await asyncio.gather(*policies.refreshing)
    assert store.reads == 2
    assert await policies.requires_signature("t") is True
    assert store.reads == 2


async def test_a_store_outage_keeps_the_last_answer_and_refuses_an_unknown_title(store: FlakyStore) -> None:
    clock = Clock()
    write_signed_urls(store, "t", True)
    policies = AccessPolicies(store, ttl=10, clock=clock)
    assert await policies.requires_signature("t") is True
    store.down = True
    clock.now += 60
    assert await policies.requires_signature("t") is True
    await asyncio.gather(*policies.refreshing)  # failed, and kept the answer
    assert await policies.requires_signature("t") is True
    assert store.reads == 2  # not read again until another ttl has passed
    with pytest.raises(StoreUnavailableError):
        await policies.requires_signature("never-seen")


async def test_concurrent_lookups_of_one_title_make_one_store_read(store: FlakyStore) -> None:
    policies = AccessPolicies(store)
    answers: list[Any] = await asyncio.gather(*(policies.requires_signature("t") for _ in range(20)))
    assert answers == [False] * 20
    assert store.reads == 1


async def test_the_cache_is_bounded(store: FlakyStore) -> None:
    policies = AccessPolicies(store, limit=3)
    for title in "abcde":
        await policies.requires_signature(title)
    await policies.requires_signature("a")  # the oldest were dropped: read again, waited for
    assert store.reads == 6


async def test_require_all_never_reads_the_store(store: FlakyStore) -> None:
    policies = AccessPolicies(store, require_all=True)
    assert await policies.requires_signature("t") is True
    assert store.reads == 0
