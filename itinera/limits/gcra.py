"""Rate policies in Redis (GCRA), shared by every task; short local leases for busy clients."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from itinera.limits.policies import Rate

# Leases (policies marked `leased`): a busy client's task takes up to this many requests of
# its budget in one call to Redis, and spends them within LEASE_SECONDS or loses them. Leases
# start at one request and double while a client keeps using them, so a client searching now
# and then costs one call per search and wastes nothing, and a hot one costs a call per 64.
MAX_LEASE = 64
LEASE_SECONDS = 1.0
MAX_CLIENTS = 50_000
# Redis answers on the same host or AZ within a millisecond; past this the limiter fails open.
TIMEOUT_SECONDS = 0.05
# GCRA in one script, so concurrent tasks cannot both take the last request. The clock is
# Redis's own: tasks on different hosts need not agree on the time. ARGV: the emission
# interval and tolerance in ms, and how many requests to take at most (0 only looks).
# Returns {taken (or 1/0 for a look), remaining after them, ms until the budget is full
# again, ms until the next is allowed}.
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
if want == 0 then
  return {1, room, tat - now, 0}
end
local taken = math.min(want, room)
local new_tat = tat + taken * interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {taken, math.floor((tolerance - (new_tat - now)) / interval), new_tat - now, 0}
"""
# Give one request back (its hold was never made): move the arrival time back one interval.
REFUND = """
local interval = tonumber(ARGV[1])
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat - interval <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], tat - interval, 'PX', math.ceil(tat - interval - now))
return 1
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


KEY_PREFIX = "limit:"


def redis_key(policy: Rate, key: str) -> str:
    """Return where *policy*'s budget for *key* lives in Redis."""
    return f"{KEY_PREFIX}{policy.name}:{key}"


class RateLimiter:
    """Rate policies per key in Redis; fails open (and counts it) when Redis does not answer."""

    def __init__(self, redis: aioredis.Redis, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.redis = redis
        self.timeout = timeout
        self.script = redis.register_script(GCRA)
        self.refund_script = redis.register_script(REFUND)
        self.failed_open: Counter[str] = Counter()
        self.redis_calls = 0
        self._leases: OrderedDict[tuple[str, str], Lease] = OrderedDict()
        self._renewing: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._waiting: Counter[tuple[str, str]] = Counter()

    async def take(self, policy: Rate, key: str) -> Decision:
        """Take one request from *key*'s budget under *policy*."""
        if not policy.enabled:
            return Decision(True, policy.count, 0, 0)
        if not policy.leased:
            return await self._ask_redis(policy, key, 1)
        slot = (policy.name, key)
        # Requests arriving while this task renews a client's lease wait for that renewal
        # rather than each asking Redis; bounded, since others may spend it first.
        for _ in range(3):
            decision = self._from_lease(slot)
            if decision is not None:
                return decision
            pending = self._renewing.get(slot)
            if pending is None:
                break
            self._waiting[slot] += 1
            try:
                await asyncio.shield(pending)
            finally:
                self._waiting[slot] -= 1
                if not self._waiting[slot]:
                    del self._waiting[slot]
        return await self._renew(policy, key)

    async def peek(self, policy: Rate, key: str) -> Decision:
        """Return whether *key* could take one request now, without taking it."""
        if not policy.enabled:
            return Decision(True, policy.count, 0, 0)
        return await self._ask_redis(policy, key, 0)

    async def refund(self, policy: Rate, key: str) -> None:
        """Give back one request *key* took (what it paid for did not happen)."""
        if not policy.enabled:
            return
        interval = 1000.0 / policy.per_second
        try:
            async with asyncio.timeout(self.timeout):
                self.redis_calls += 1
                await self.refund_script(keys=[redis_key(policy, key)], args=[interval])
        except (RedisError, OSError, TimeoutError):
            self.failed_open[policy.name] += 1  # the budget stays spent: never more than it was

    def _from_lease(self, slot: tuple[str, str]) -> Decision | None:
        lease = self._leases.get(slot)
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

    async def _renew(self, policy: Rate, key: str) -> Decision:
        slot = (policy.name, key)
        if slot in self._renewing:  # still renewing after three waits: ask for ourselves
            return await self._ask_redis(policy, key, 1)
        done = asyncio.get_running_loop().create_future()
        self._renewing[slot] = done
        try:
            # Enough for the requests already waiting on this renewal, and this one.
            size = min(MAX_LEASE, max(_next_size(self._leases.get(slot)),
                                      self._waiting.get(slot, 0) + 1))
            return await self._ask_redis(policy, key, size)
        finally:
            del self._renewing[slot]
            done.set_result(None)

    async def _ask_redis(self, policy: Rate, key: str, size: int) -> Decision:
        now = time.monotonic()
        interval = 1000.0 / policy.per_second
        try:
            async with asyncio.timeout(self.timeout):
                self.redis_calls += 1
                taken, remaining, reset_ms, wait_ms = await self.script(
                    keys=[redis_key(policy, key)], args=[interval, interval * policy.count, size])
        except (RedisError, OSError, TimeoutError):
            # Better to serve a burst than to refuse every traveller while Redis fails over.
            self.failed_open[policy.name] += 1
            return Decision(True, policy.count, 0, 0)
        reset = math.ceil(float(reset_ms) / 1000)
        slot = (policy.name, key)
        if int(taken) == 0:
            wait = float(wait_ms) / 1000
            if policy.leased:
                self._remember(slot, Lease(left=0, remaining=0, reset_seconds=reset,
                                           expires=now + wait, size=1, refused=True))
            return Decision(False, 0, reset, max(1, math.ceil(wait)))
        if size == 0:  # a look: nothing was taken
            return Decision(True, int(remaining), reset, 0)
        left = int(taken) - 1
        if policy.leased:
            self._remember(slot, Lease(left=left, remaining=int(remaining) + left,
                                       reset_seconds=reset, expires=now + LEASE_SECONDS,
                                       size=size))
        return Decision(True, int(remaining) + left, reset, 0)

    def _remember(self, slot: tuple[str, str], lease: Lease) -> None:
        self._leases[slot] = lease
        self._leases.move_to_end(slot)
        while len(self._leases) > MAX_CLIENTS:
            self._leases.popitem(last=False)


def rate_limit_headers(policy: Rate, decision: Decision) -> dict[str, str]:
    """Return the RateLimit-Policy and RateLimit fields (IETF httpapi draft 10)."""
    window = math.ceil(policy.window_s)
    return {"RateLimit-Policy": f'"{policy.name}";q={policy.count};w={window}',
            "RateLimit": f'"{policy.name}";r={decision.remaining};t={decision.reset_seconds}'}
