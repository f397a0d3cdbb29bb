"""Anonymous clients get a burst, then a steady rate, then 429 with Retry-After."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.buckets import RateLimiter
from gateway.main import create_app
from gateway.settings import Settings
from itinera.auth import LocalIssuer


def test_a_burst_is_allowed_then_the_rate_applies() -> None:
    """Burst tokens go first; afterwards tokens come back at the configured rate."""
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.wait_time("a", now=0.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.wait_time("a", now=0.0) == 0.5
    assert limiter.wait_time("a", now=0.5) == 0  # one token refilled in half a second
    assert limiter.wait_time("b", now=0.5) == 0  # other clients have their own bucket


def test_memory_is_bounded_by_forgetting_the_least_recent_clients() -> None:
    """Past max_clients, the client seen longest ago is dropped (it would be full anyway)."""
    limiter = RateLimiter(rate=1, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.wait_time(client, now=0.0)
    assert limiter.wait_time("a", now=0.0) == 0  # forgotten, so it starts with a full bucket
    assert limiter.wait_time("c", now=0.0) == 1.0


async def test_searches_beyond_the_limit_get_429_problem_with_retry_after(
        tmp_path: Path) -> None:
    """The third search in a burst of two is refused with `rate_limited` and Retry-After,
    per client address as the trusted proxy reports it; bookings are not limited here."""
    issuer = LocalIssuer(tmp_path)
    issuer.ensure_keys()
    settings = Settings(inventory_url="http://127.0.0.1:9", checkout_api_url="http://127.0.0.1:9",
                        internal_token="t", jwks_path=str(issuer.jwks_path),
                        rate_limit_per_second=0.1, rate_limit_burst=2)
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        client_a = {"X-Forwarded-For": "203.0.113.7"}
        for _ in range(2):  # inventory is unreachable: 503, but the request was let through
            assert (await client.get("/v1/flights", headers=client_a)).status == 503
        refused = await client.get("/v1/flights", headers=client_a)
        assert refused.status == 429
        assert (await refused.json())["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        other = await client.get("/v1/hotels", headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status == 503
        unlimited = await client.get("/v1/bookings", headers=client_a)
        assert unlimited.status == 401
