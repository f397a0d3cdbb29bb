"""The fault proxies in front of the real MariaDB and Redis: pass, cut, delay, drop and rollback."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import AsyncIterator

import aiohttp
import aiomysql
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from localaws.faults import (
    Fault,
    FaultControl,
    FaultProxies,
    FaultProxy,
    Route,
    create_app,
)
from tests.waiting import eventually

MARIADB = ("127.0.0.1", 3306)
REDIS = ("127.0.0.1", 6379)


def _route(dependency: str, upstream: tuple[str, int], az: str = "az-a") -> Route:
    return Route(dependency=dependency, az=az, listen_host="127.0.0.1", listen_port=0,
                 upstream_host=upstream[0], upstream_port=upstream[1])


class Always(random.Random):
    """A random source that always answers the same draw, so a fault's dice are decided."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


class Scripted(random.Random):
    """A random source that answers the given draws in order, then 0.99 (nothing happens)."""

    def __init__(self, draws: list[float]) -> None:
        super().__init__(0)
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0) if self.draws else 0.99


@pytest.fixture
async def redis_proxy() -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(_route("redis", REDIS))
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def mariadb_proxy() -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(_route("mariadb", MARIADB))
    await proxy.start()
    yield proxy
    await proxy.stop()


def _client(port: int) -> aioredis.Redis:
    return aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2,
                          socket_timeout=5, retry_on_timeout=False)


async def _ping_seconds(client: aioredis.Redis, times: int = 5) -> float:
    """Return the median time of a PING round trip over an open connection."""
    await client.ping()  # connect first: the measure is of round trips, not the handshake
    took = []
    for _ in range(times):
        started = time.perf_counter()
        await client.ping()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


async def test_redis_and_mariadb_pass_through_the_proxy(redis_proxy: FaultProxy,
                                                        mariadb_proxy: FaultProxy) -> None:
    """With no fault, Redis commands and MySQL queries work through the proxies."""
    client = _client(redis_proxy.port)
    try:
        assert await client.ping() is True
        await client.set("faults:pass", "through", ex=30)
        assert await client.get("faults:pass") == b"through"
    finally:
        await client.aclose()
    conn = await aiomysql.connect(host="127.0.0.1", port=mariadb_proxy.port, user="root",
                                  password="", connect_timeout=3)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT 41 + 1")
            assert await cur.fetchone() == (42,)
    finally:
        conn.close()


async def test_cut_drops_connections_refuses_new_ones_then_serves(
        mariadb_proxy: FaultProxy) -> None:
    """Cut, as an Aurora failover: the open connection dies, new ones are refused for the
    duration, then connections are served again without anyone lifting the fault."""
    conn = await aiomysql.connect(host="127.0.0.1", port=mariadb_proxy.port, user="root",
                                  password="", connect_timeout=3)
    await mariadb_proxy.apply(Fault(mode="cut", duration_s=1.5))
    with pytest.raises(aiomysql.OperationalError):
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1")
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", mariadb_proxy.port)

    async def served() -> bool:
        try:
            again = await aiomysql.connect(host="127.0.0.1", port=mariadb_proxy.port,
                                           user="root", password="", connect_timeout=1)
        except aiomysql.OperationalError:
            return False
        async with again.cursor() as cur:
            await cur.execute("SELECT 1")
            ok = await cur.fetchone() == (1,)
        again.close()
        return ok

    waited = await eventually(served, within=10, what="MariaDB served again after the cut")
    assert mariadb_proxy.fault.mode == "pass"
    assert waited > 0.5  # the refusal lasted for (most of) the duration, not a blip


async def test_delay_adds_at_least_the_configured_latency(redis_proxy: FaultProxy) -> None:
    """A 100 ms delay makes a Redis round trip through the proxy at least 100 ms slower than
    the direct path measured in the same test."""
    direct = _client(REDIS[1])
    proxied = _client(redis_proxy.port)
    try:
        direct_s = await _ping_seconds(direct)
        await redis_proxy.apply(Fault(mode="delay", delay_ms=100))
        delayed_s = await _ping_seconds(proxied)
    finally:
        await direct.aclose()
        await proxied.aclose()
    assert delayed_s >= 0.100
    # The proxied path is the direct one plus the delay (plus the proxy's own hop); 2 ms covers
    # the jitter between the two medians.
    assert delayed_s - direct_s >= 0.100 - 0.002


async def test_pass_rolls_a_delay_back(redis_proxy: FaultProxy) -> None:
    """Setting pass again removes the delay from the next round trips."""
    client = _client(redis_proxy.port)
    try:
        await redis_proxy.apply(Fault(mode="delay", delay_ms=300))
        assert await _ping_seconds(client, times=1) >= 0.3
        await redis_proxy.apply(Fault())
        assert await _ping_seconds(client) < 0.1
    finally:
        await client.aclose()


async def test_drop_stalls_a_lost_chunk_for_a_retransmission() -> None:
    """A chunk lost (the dice say so) waits at least TCP's minimum retransmission timeout;
    with close_probability the connection is closed instead."""
    # Draws in order: keep the connection (0.99 >= 0), lose the chunk (0.5 < 0.6), then
    # deliver its retransmission (0.99).
    proxy = FaultProxy(_route("redis", REDIS), rng=Scripted([0.99, 0.5, 0.99]))
    await proxy.start()
    client = _client(proxy.port)
    try:
        await client.ping()
        await proxy.apply(Fault(mode="drop", probability=0.6))
        started = time.perf_counter()
        await client.ping()
        assert time.perf_counter() - started >= 0.2
    finally:
        await client.aclose()
        await proxy.stop()

    closing = FaultProxy(_route("redis", REDIS), rng=Always(0.0))
    await closing.start()
    client = _client(closing.port)
    try:
        await client.ping()
        await closing.apply(Fault(mode="drop", close_probability=1.0))
        with pytest.raises((ConnectionError, aioredis.ConnectionError)):
            await client.execute_command("PING")
    finally:
        await client.aclose()
        await closing.stop()


async def test_the_control_api_sets_reports_and_clears_faults_per_az() -> None:
    """PUT /faults applies to one dependency in one AZ only, GET reports it, DELETE lifts all."""
    proxies = FaultProxies([_route("redis", REDIS, "az-a"), _route("redis", REDIS, "az-b"),
                            _route("mariadb", MARIADB, "az-a")])
    server = TestServer(create_app(proxies), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            control = FaultControl(str(server.make_url("")), session)
            applied = await control.apply(Fault(mode="delay", delay_ms=50), dependency="redis",
                                          az="az-a")
            assert applied == ["redis-az-a"]
            modes = {p["name"]: p["fault"]["mode"] for p in await control.status()}
            assert modes == {"redis-az-a": "delay", "redis-az-b": "pass", "mariadb-az-a": "pass"}
            async with session.put(server.make_url("/faults"),
                                   json={"fault": {"mode": "delay"}}) as refused:
                assert refused.status == 400
                assert "delay needs delay_ms" in await refused.text()
            assert sorted(await control.clear()) == ["mariadb-az-a", "redis-az-a", "redis-az-b"]
            assert {p["fault"]["mode"] for p in await control.status()} == {"pass"}
    finally:
        await server.close()
