"""The gateway's edge cache: fresh answers reused, one fetch per key at a time, errors not kept."""

from __future__ import annotations

import asyncio

import pytest

from gateway.edge_cache import Answer, EdgeCache
from tests.waiting import eventually

OK = Answer(200, "application/json", b'{"items": []}')


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_answer_is_reused_until_it_is_older_than_the_ttl() -> None:
    """Within the TTL the cache answers; past it, the next request fetches again."""
    clock, fetched = Clock(), []

    async def fetch() -> Answer:
        fetched.append(1)
        return OK

    cache = EdgeCache(ttl=1.0, clock=clock)
    assert await cache.load("/v1/flights?a=1", fetch) == OK
    clock.now += 0.9
    assert cache.get("/v1/flights?a=1") == OK
    clock.now += 0.2
    assert cache.get("/v1/flights?a=1") is None
    await cache.load("/v1/flights?a=1", fetch)
    assert len(fetched) == 2


async def test_concurrent_requests_for_one_key_share_one_fetch() -> None:
    """Fifty requests for the same search while it loads make one upstream call."""
    release, calls = asyncio.Event(), []

    async def fetch() -> Answer:
        calls.append(1)
        await release.wait()
        return OK

    cache = EdgeCache(ttl=1.0)
    waiting = [asyncio.create_task(cache.load("k", fetch)) for _ in range(50)]
    await eventually(lambda: cache.misses + cache.hits == 50, within=5,
                     what="all fifty asking while the fetch is in flight")
    release.set()
    assert await asyncio.gather(*waiting) == [OK] * 50
    assert len(calls) == 1


async def test_errors_are_shared_but_not_kept() -> None:
    """A 503 goes to everyone who waited for it, and the next request asks again."""
    calls = []

    async def fetch() -> Answer:
        calls.append(1)
        return Answer(503, "application/problem+json", b"{}")

    cache = EdgeCache(ttl=1.0)
    assert (await cache.load("k", fetch)).status == 503
    assert cache.get("k") is None
    await cache.load("k", fetch)
    assert len(calls) == 2


async def test_a_requester_going_away_does_not_cancel_the_fetch_for_others() -> None:
    """The first requester is cancelled mid-fetch; the second still gets the answer."""
    release = asyncio.Event()

    async def fetch() -> Answer:
        await release.wait()
        return OK

    cache = EdgeCache(ttl=1.0)
    first = asyncio.create_task(cache.load("k", fetch))
    second = asyncio.create_task(cache.load("k", fetch))
    await eventually(lambda: cache.misses + cache.hits == 2, within=5,
                     what="both requesters waiting on the one fetch")
    first.cancel()
    release.set()
    assert await second == OK
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_zero_ttl_keeps_nothing() -> None:
    """EDGE_CACHE_SECONDS=0 turns the cache off (fetches are still shared while in flight)."""

    async def fetch() -> Answer:
        return OK

    cache = EdgeCache(ttl=0)
    await cache.load("k", fetch)
    assert cache.get("k") is None
