"""Anonymous searches share one budget per client across every gateway task, through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.keys import limiter_key
from gateway.main import create_app
from gateway.settings import Settings
from itinera.auth import LocalIssuer
from itinera.limits.policies import parse_limits

REDIS_URL = "redis://127.0.0.1:6379/13"
SEARCH = "/v1/flights?origin=LHR&destination=JFK&date=2030-01-02"


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Return gateway settings whose upstreams are unreachable (searches answer 503)."""
    issuer = LocalIssuer(tmp_path)
    issuer.ensure_keys()
    base: dict[str, Any] = {
        "inventory_url": "http://127.0.0.1:9", "checkout_api_url": "http://127.0.0.1:9",
        "internal_token": "t", "jwks_path": str(issuer.jwks_path), "redis_url": REDIS_URL,
        "limits": parse_limits("search=2/20s")}
    return Settings(**{**base, **overrides})


@pytest.fixture
async def two_tasks(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], ...]]:
    """Two gateway tasks sharing one Redis, as two Fargate tasks share ElastiCache."""
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(
            TestClient(TestServer(create_app(settings(tmp_path)), host="127.0.0.1")))
            for _ in range(2)]
        yield tuple(clients)


async def test_the_budget_is_shared_by_every_task(
        two_tasks: tuple[TestClient[Any, Any], ...]) -> None:
    """A burst of two spent on two tasks leaves nothing on either: the third search is a 429
    problem with Retry-After and RateLimit headers; another client still has its budget."""
    a, b = two_tasks
    # The ALB appends the address it saw; a fresh one per run keeps runs apart in Redis.
    client = {"X-Forwarded-For": f"spoofed-by-client, {uuid.uuid4()}"}
    first = await a.get(SEARCH, headers=client)
    second = await b.get(SEARCH, headers=client)
    # Inventory is unreachable: 503, but each request was let through the limiter.
    assert (first.status, second.status) == (503, 503)
    assert first.headers["RateLimit-Policy"] == '"search";q=2;w=20'
    assert first.headers["RateLimit"].startswith('"search";r=1;')
    assert second.headers["RateLimit"].startswith('"search";r=0;')
    refused = await a.get(SEARCH, headers=client)
    assert refused.status == 429
    problem = await refused.json()
    assert problem["code"] == "rate_limited" and problem["request_id"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit"].startswith('"search";r=0;')
    assert (await b.get(SEARCH, headers=client)).status == 429
    other = await b.get(SEARCH, headers={"X-Forwarded-For": str(uuid.uuid4())})
    assert other.status == 503


async def test_only_anonymous_search_routes_are_limited(
        two_tasks: tuple[TestClient[Any, Any], ...]) -> None:
    """Bookings are not counted against the search budget (their callers carry tokens)."""
    a, _ = two_tasks
    client = {"X-Forwarded-For": str(uuid.uuid4())}
    for _ in range(4):
        assert (await a.get("/v1/bookings", headers=client)).status == 401


async def test_the_limit_fails_open_and_counts_it_when_redis_is_down(tmp_path: Path) -> None:
    """With Redis unreachable every search is let through, and the limiter counts them."""
    down = settings(tmp_path, redis_url="redis://127.0.0.1:9/0")
    async with TestClient(TestServer(create_app(down), host="127.0.0.1")) as client:
        statuses = [(await client.get(SEARCH, headers={"X-Forwarded-For": "same"})).status
                    for _ in range(5)]
        assert statuses == [503] * 5
        assert client.app[limiter_key].failed_open["search"] == 5


async def test_signed_in_travellers_each_have_their_own_budget(
        tmp_path: Path, two_tasks: tuple[TestClient[Any, Any], ...]) -> None:
    """Behind one address, each signed-in traveller spends their own budget; a bad token
    spends the address's."""
    a, _ = two_tasks
    issuer = LocalIssuer(tmp_path)
    address = str(uuid.uuid4())
    for name in ("traveller-1", "traveller-2"):
        token = {"Authorization": f"Bearer {issuer.mint(f'{name}-{address[:8]}')}"}
        statuses = [(await a.get(SEARCH, headers={"X-Forwarded-For": address, **token})).status
                    for _ in range(3)]
        assert statuses == [503, 503, 429]
    forged = {"X-Forwarded-For": address, "Authorization": "Bearer not-a-token"}
    assert [(await a.get(SEARCH, headers=forged)).status for _ in range(3)] == [503, 503, 429]


async def test_many_accounts_behind_one_address_share_its_wider_budget(tmp_path: Path) -> None:
    """Each signed-in traveller has a budget of their own, but all of them together spend
    their address's: a person with many accounts gets one address's worth, not many."""
    wide = settings(tmp_path, limits=parse_limits("search=2/20s,search-address=3/20s"))
    issuer = LocalIssuer(tmp_path)
    address = str(uuid.uuid4())
    async with TestClient(TestServer(create_app(wide), host="127.0.0.1")) as client:
        statuses = []
        for n in range(3):
            token = {"Authorization": f"Bearer {issuer.mint(f'account-{n}-{address[:8]}')}"}
            statuses += [(await client.get(SEARCH, headers={"X-Forwarded-For": address,
                                                            **token})).status]
        refused = await client.get(SEARCH, headers={"X-Forwarded-For": address, **token})
        assert statuses == [503, 503, 503] and refused.status == 429
        problem = await refused.json()
        assert (problem["code"], problem["limit"]) == ("rate_limited", "search-address")
        assert refused.headers["RateLimit-Policy"].startswith('"search-address";q=3;')


async def test_a_busy_client_leases_requests_and_spends_no_more_than_its_budget(
        tmp_path: Path) -> None:
    """A client searching hard at one task costs Redis a call per lease, not per search, and
    gets exactly its burst before 429s."""
    async def search(_: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_cursor": None})

    upstream = web.Application()
    upstream.router.add_get("/v1/flights", search)
    async with TestServer(upstream, host="127.0.0.1") as inventory:
        busy = settings(tmp_path, inventory_url=str(inventory.make_url("")),
                        limits=parse_limits("search=40/11h"), edge_cache_seconds=0)
        async with TestClient(TestServer(create_app(busy), host="127.0.0.1")) as client:
            headers = {"X-Forwarded-For": str(uuid.uuid4())}
            statuses = [(await client.get(SEARCH, headers=headers)).status for _ in range(60)]
            limiter = client.app[limiter_key]
    assert statuses[:40] == [200] * 40 and set(statuses[40:]) == {429}
    assert limiter.redis_calls < 20


async def test_concurrent_searches_share_renewals_and_never_fail(tmp_path: Path) -> None:
    """Two hundred concurrent searches from one client at one task wait on one another's
    lease renewals instead of each asking Redis, and every one is answered."""
    async def search(_: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_cursor": None})

    upstream = web.Application()
    upstream.router.add_get("/v1/flights", search)
    async with TestServer(upstream, host="127.0.0.1") as inventory:
        roomy = settings(tmp_path, inventory_url=str(inventory.make_url("")),
                         limits=parse_limits("search=10000/10s,search-address=10000/10s"),
                         edge_cache_seconds=0)
        async with TestClient(TestServer(create_app(roomy), host="127.0.0.1")) as client:
            headers = {"X-Forwarded-For": str(uuid.uuid4())}
            answers = await asyncio.gather(*(client.get(SEARCH, headers=headers)
                                             for _ in range(200)))
            limiter = client.app[limiter_key]
    assert {a.status for a in answers} == {200}
    # Two budgets (the traveller's and the address's), each renewed in shared leases.
    assert limiter.redis_calls < 100
