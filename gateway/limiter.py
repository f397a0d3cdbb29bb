"""GCRA in Redis, shared by every gateway task, with short local leases for busy clients."""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

POLICY = "search"
# Leases: a busy client's task takes up to this many requests of its budget in one call to
# Redis, and spends them within LEASE_SECONDS or loses them. Leases start at one request and
# double while a client keeps using them, so a client searching now and then costs one call
# per search and wastes nothing, and a hot one costs a call per 64.
MAX_LEASE = 64
LEASE_SECONDS = 1.0
MAX_CLIENTS = 50_000
# GCRA in one script, so concurrent tasks cannot both take the last request. The clock is
# Redis's own: tasks on different hosts need not agree on the time. ARGV: the emission
# interval and tolerance in ms, and how many requests to take at most. Returns {taken,
# remaining after them, ms until the budget is full again, ms until the next is allowed}.
GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local room = math.floor((tolerance - (tat - now)) / interval)
if room < 1 then
  return {0, 0, tat - now, tat + interval - tolerance - now}
end
local taken = math.min(want, room)
local new_tat = tat + taken * interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {taken, math.floor((tolerance - (new_tat - now)) / interval), new_tat - now, 0}
"""


@dataclass(frozen=True)
class Decision:
    """One request's verdict and what the RateLimit headers say about the client's quota."""

    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after: int


@dataclass
class Lease:
    """Requests a task took from a client's budget ahead of time, and until when."""

    left: int
    remaining: int
    reset_seconds: int
    expires: float
    size: int
    # Refused until `expires`: nothing another task does can make the budget grow sooner.
    refused: bool = False


def _next_size(lease: Lease | None) -> int:
    """Return how many requests to lease next: double a lease spent in time, else what the
    client spent of the last one before it lapsed, so unspent leases stay small."""
    if lease is None or lease.refused:
        return 1
    if lease.left == 0:
        return min(MAX_LEASE, lease.size * 2)
    return max(1, lease.size - lease.left)


class RateLimiter:
    """Generic cell rate algorithm per client in Redis; fails open when Redis does not answer."""

    def __init__(self, redis: aioredis.Redis, *, rate: float, burst: int,
                 timeout: float = 0.05) -> None:
        self.redis = redis
        self.rate = rate
        self.burst = burst
        self.timeout = timeout
        self.script = redis.register_script(GCRA)
        self.failed_open = 0
        self.redis_calls = 0
        self._leases: OrderedDict[str, Lease] = OrderedDict()
        self._renewing: dict[str, asyncio.Future[None]] = {}
        self._waiting: dict[str, int] = {}

    async def take(self, client: str) -> Decision:
        """Take one request from *client*'s quota."""
        # Requests arriving while this task renews a client's lease wait for that renewal
        # rather than each asking Redis; bounded, since others may spend it first.
        for _ in range(3):
            decision = self._from_lease(client)
            if decision is not None:
                return decision
            pending = self._renewing.get(client)
            if pending is None:
                break
            self._waiting[client] = self._waiting.get(client, 0) + 1
            try:
                await asyncio.shield(pending)
            finally:
                self._waiting[client] -= 1
                if not self._waiting[client]:
                    del self._waiting[client]
        return await self._renew(client)

    def _from_lease(self, client: str) -> Decision | None:
        lease = self._leases.get(client)
        now = time.monotonic()
        if lease is None or lease.expires <= now:
            return None
        if lease.refused:
            return Decision(False, 0, lease.reset_seconds, max(1, math.ceil(lease.expires - now)))
        if lease.left == 0:
            return None
        lease.left -= 1
        lease.remaining = max(0, lease.remaining - 1)
        return Decision(True, lease.remaining, lease.reset_seconds, 0)

    async def _renew(self, client: str) -> Decision:
        if client in self._renewing:  # still renewing after three waits: ask for ourselves
            return await self._ask_redis(client)
        done = asyncio.get_running_loop().create_future()
        self._renewing[client] = done
        try:
            return await self._ask_redis(client)
        finally:
            del self._renewing[client]
            done.set_result(None)

    async def _ask_redis(self, client: str) -> Decision:
        now = time.monotonic()
        # Enough for the requests already waiting on this renewal, and this one.
        size = min(MAX_LEASE, max(_next_size(self._leases.get(client)),
                                  self._waiting.get(client, 0) + 1))
        interval = 1000.0 / self.rate
        try:
            async with asyncio.timeout(self.timeout):
                self.redis_calls += 1
                taken, remaining, reset_ms, wait_ms = await self.script(
                    keys=[f"ratelimit:{POLICY}:{client}"],
                    args=[interval, interval * self.burst, size])
        except (RedisError, OSError, TimeoutError):
            # Better to serve a burst than to refuse every traveller while Redis fails over.
            self.failed_open += 1
            return Decision(True, self.burst, 0, 0)
        reset = math.ceil(float(reset_ms) / 1000)
        if int(taken) == 0:
            wait = float(wait_ms) / 1000
            self._remember(client, Lease(left=0, remaining=0, reset_seconds=reset,
                                         expires=now + wait, size=1, refused=True))
            return Decision(False, 0, reset, max(1, math.ceil(wait)))
        left = int(taken) - 1
        self._remember(client, Lease(left=left, remaining=int(remaining) + left,
                                     reset_seconds=reset, expires=now + LEASE_SECONDS,
                                     size=size))
        return Decision(True, int(remaining) + left, reset, 0)

    def _remember(self, client: str, lease: Lease) -> None:
        self._leases[client] = lease
        self._leases.move_to_end(client)
        while len(self._leases) > MAX_CLIENTS:
            self._leases.popitem(last=False)

    def headers(self, decision: Decision) -> dict[str, str]:
        """Return the RateLimit-Policy and RateLimit fields (IETF httpapi draft 10)."""
        window = math.ceil(self.burst / self.rate)
        return {"RateLimit-Policy": f'"{POLICY}";q={self.burst};w={window}',
                "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset_seconds}'}
