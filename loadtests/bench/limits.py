"""What the abuse limits add to a hold: `python -m loadtests.bench.limits [--holds N]`.

Drives the gateway's HoldGuard against the real Redis with many travellers (five holds each,
the production caps) and an inventory that answers at once, so what is measured is the
limits alone; the reference, in the same run, is a Redis PING: one round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import redis.asyncio as aioredis
from aiohttp import web

from gateway.hold_limits import HoldGuard
from itinera.api.holds import HoldRequest
from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HoldLedger
from itinera.limits.policies import parse_limits

HOLDS_PER_TRAVELLER = 5


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _redis_cpu(redis: aioredis.Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _timed(redis: aioredis.Redis, label: str, count: int, concurrency: int,
                 one: object) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def run(n: int) -> None:
        async with gate:
            await one(n)  # type: ignore[operator]

    cpu, server, started = _cpu(), await _redis_cpu(redis), time.perf_counter()
    await asyncio.gather(*(run(n) for n in range(count)))
    wall, used = time.perf_counter() - started, _cpu() - cpu
    served = await _redis_cpu(redis) - server
    print(f"  {label:<34} {count / wall:>9,.0f}/s  CPU each: {used / count * 1000:.3f} ms "
          f"here, {served / count * 1000:.3f} ms in Redis")
    return wall / count


async def main(holds: int, concurrency: int, redis_url: str) -> None:
    """Measure PING, then HoldGuard.create around an instant inventory, and print both."""
    redis = aioredis.Redis.from_url(redis_url)
    limits = parse_limits("")
    guard = HoldGuard(RateLimiter(redis), HoldLedger(redis, limits), limits,
                      refused=lambda _: None)
    run_id = uuid.uuid4().hex[:8]
    expires = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
    print(f"{holds} holds by {holds // HOLDS_PER_TRAVELLER} travellers, {concurrency} at once, "
          f"Redis at {redis_url}")

    async def ping(_: int) -> None:
        await redis.ping()

    async def hold(n: int) -> None:
        traveller = f"bench-{run_id}-{n // HOLDS_PER_TRAVELLER}"
        request = HoldRequest.model_validate({"items": [
            {"kind": "flight", "flight_id": str(1000 + n % HOLDS_PER_TRAVELLER),
             "cabin": "economy", "quantity": 1}]})

        async def made() -> web.Response:
            return web.Response(status=201, body=orjson.dumps(
                {"id": uuid.uuid4().hex, "expires_at": expires}))

        response = await guard.create(traveller, request, None, made)
        assert response.status == 201

    ping_s = await _timed(redis, "Redis PING (one round trip)", holds, concurrency, ping)
    hold_s = await _timed(redis, "limits of one hold (HoldGuard)", holds, concurrency, hold)
    print(f"  a hold's limits cost {hold_s / ping_s:.1f} round trips of wall time")
    await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holds", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    asyncio.run(main(args.holds, args.concurrency, args.redis_url))
