"""What each traveller holds right now, in Redis, so the caps can refuse a hold before it exists.

Per traveller, a sorted set of their holds scored by expiry, and a hash of what each holds
(seats per flight, rooms per hotel night). A hold is *reserved* before inventory is asked for
it, in one script that counts what the traveller holds and refuses past a cap, so concurrent
requests cannot both slip under it; it is then *committed* under its hold id (or released
when inventory refused). Releasing, confirming or failing a booking removes it; an entry
nobody removed (a task died) lapses at its hold's expiry, so the ledger errs towards
counting too much for at most one hold's lifetime, never towards too little.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from itinera.limits.gcra import TIMEOUT_SECONDS
from itinera.limits.policies import Cap, Limits

CAPS = ("active-holds", "held-units", "flight-seats", "hotel-rooms")
# A reservation lives this long unless committed: longer than inventory may take to answer.
RESERVATION_SECONDS = 60
# Where a traveller's ledger is; the hash holds each member's items and idempotency aliases.
KEY_PREFIX = "holdings:"
KEY = KEY_PREFIX + "{customer}"
ITEMS_KEY = KEY_PREFIX + "{customer}:items"
# ARGV: member, ttl ms, idempotency alias ("" for none), caps (active holds, units, seats per
# flight, rooms per night; 0 = off), the hold's units, then its items as key, quantity
# pairs (`f<flight>` seats, `n<hotel>:<night>` rooms). Returns {1, "reserved"|"replay"} or
# {0, policy, ms until the earliest hold counted against it lapses}.
RESERVE = """
local zkey, hkey = KEYS[1], KEYS[2]
local member, ttl, alias = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local max_active, max_units = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_seats, max_rooms = tonumber(ARGV[6]), tonumber(ARGV[7])
local units = tonumber(ARGV[8])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local gone = redis.call('ZRANGEBYSCORE', zkey, '-inf', now)
if #gone > 0 then
  redis.call('ZREM', zkey, unpack(gone))
  redis.call('HDEL', hkey, unpack(gone))
end
if alias ~= '' then
  local known = redis.call('HGET', hkey, 'alias:' .. alias)
  if known and redis.call('ZSCORE', zkey, known) then
    return {1, 'replay'}
  end
end
local held = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
local active, earliest = 0, nil
local total, total_first = 0, nil
local sums, firsts = {}, {}
for i = 1, #held, 2 do
  local other, expires = held[i], tonumber(held[i + 1])
  if other ~= member then
    active = active + 1
    if not earliest or expires < earliest then earliest = expires end
    local items = redis.call('HGET', hkey, other) or ''
    local first = true
    for part in string.gmatch(items, '[^;]+') do
      local name, qty = string.match(part, '^(.-)=(%d+)$')
      if first then
        total = total + tonumber(part)
        if not total_first or expires < total_first then total_first = expires end
        first = false
      elseif name then
        sums[name] = (sums[name] or 0) + tonumber(qty)
        if not firsts[name] or expires < firsts[name] then firsts[name] = expires end
      end
    end
  end
end
if max_active > 0 and active >= max_active then
  return {0, 'active-holds', earliest - now}
end
if max_units > 0 and total + units > max_units then
  return {0, 'held-units', (total_first or now) - now}
end
local encoded = tostring(units)
for i = 9, #ARGV, 2 do
  local name, qty = ARGV[i], tonumber(ARGV[i + 1])
  local cap = max_rooms
  local policy = 'hotel-rooms'
  if string.sub(name, 1, 1) == 'f' then
    cap = max_seats
    policy = 'flight-seats'
  end
  if cap > 0 and (sums[name] or 0) + qty > cap then
    return {0, policy, (firsts[name] or now) - now}
  end
  encoded = encoded .. ';' .. name .. '=' .. qty
end
redis.call('ZADD', zkey, now + ttl, member)
redis.call('HSET', hkey, member, encoded)
local last = tonumber(redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', zkey, last - now + 60000)
redis.call('PEXPIRE', hkey, last - now + 60000)
return {1, 'reserved'}
"""
# ARGV: the reservation, the hold id, ms until the hold expires, the idempotency alias.
COMMIT = """
local zkey, hkey = KEYS[1], KEYS[2]
local reservation, hold, ttl, alias = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local items = redis.call('HGET', hkey, reservation) or redis.call('HGET', hkey, hold)
if reservation ~= hold then
  redis.call('ZREM', zkey, reservation)
  redis.call('HDEL', hkey, reservation)
end
if not items or ttl <= 0 then return 0 end
redis.call('ZADD', zkey, now + ttl, hold)
redis.call('HSET', hkey, hold, items)
if alias ~= '' then redis.call('HSET', hkey, 'alias:' .. alias, hold) end
local last = tonumber(redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', zkey, last - now + 60000)
redis.call('PEXPIRE', hkey, last - now + 60000)
return 1
"""


@dataclass(frozen=True)
class HeldItems:
    """What one hold keeps: seats per flight and rooms per hotel night, and their total."""

    seats: Mapping[int, int] = field(default_factory=dict)
    rooms: Mapping[tuple[int, date], int] = field(default_factory=dict)

    @property
    def units(self) -> int:
        """Return the seats and rooms of the hold (a room counts once, however many nights)."""
        nights: Counter[int] = Counter()
        for (hotel, _), rooms in self.rooms.items():
            nights[hotel] = max(nights[hotel], rooms)
        return sum(self.seats.values()) + sum(nights.values())

    def arguments(self) -> list[str]:
        """Return the items as the reserve script reads them."""
        out: list[str] = []
        for flight, seats in sorted(self.seats.items()):
            out += [f"f{flight}", str(seats)]
        for (hotel, night), rooms in sorted(self.rooms.items()):
            out += [f"n{hotel}:{night.isoformat()}", str(rooms)]
        return out


def held_items(flights: list[tuple[int, int]], stays: list[tuple[int, date, date, int]]
               ) -> HeldItems:
    """Return what a hold of *flights* (id, seats) and *stays* (hotel, in, out, rooms) keeps."""
    seats: Counter[int] = Counter()
    for flight, quantity in flights:
        seats[flight] += quantity
    rooms: Counter[tuple[int, date]] = Counter()
    for hotel, check_in, check_out, quantity in stays:
        for n in range((check_out - check_in).days):
            rooms[(hotel, check_in + timedelta(days=n))] += quantity
    return HeldItems(seats=dict(seats), rooms=dict(rooms))


@dataclass(frozen=True)
class Reservation:
    """The answer to a reservation: granted (or a replay of a hold already counted), or the
    cap it would break and how long until one of the holds counted against it lapses."""

    granted: bool
    member: str = ""
    replay: bool = False
    refused_by: Cap | None = None
    retry_after: int = 0


class HoldLedger:
    """Reserve, commit and release holds in the travellers' ledgers; fails open like the
    rate limiter, counting it, when Redis does not answer."""

    def __init__(self, redis: aioredis.Redis, limits: Limits, *,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.redis = redis
        self.limits = limits
        self.timeout = timeout
        self.reserve_script = redis.register_script(RESERVE)
        self.commit_script = redis.register_script(COMMIT)
        self.failed_open: Counter[str] = Counter()

    @property
    def enabled(self) -> bool:
        """Return whether any cap is on (with none, the ledger is not kept at all)."""
        return any(self._cap(name) for name in CAPS)

    def _keys(self, customer: str) -> list[str]:
        return [KEY.format(customer=customer), ITEMS_KEY.format(customer=customer)]

    def _cap(self, name: str) -> int:
        cap = self.limits.cap(name)
        return cap.limit if cap.enabled else 0

    async def reserve(self, customer: str, member: str, items: HeldItems, *,
                      alias: str = "") -> Reservation:
        """Count *items* against *customer*'s caps and reserve them under *member*."""
        if not self.enabled:
            return Reservation(granted=True, member=member)
        args: list[str | int] = [
            member, RESERVATION_SECONDS * 1000, alias, self._cap("active-holds"),
            self._cap("held-units"), self._cap("flight-seats"), self._cap("hotel-rooms"),
            items.units, *items.arguments()]
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self.reserve_script(keys=self._keys(customer), args=args)
        except (RedisError, OSError, TimeoutError):
            self.failed_open["holdings"] += 1
            return Reservation(granted=True, member=member)
        ok, detail, *rest = answer
        detail = detail.decode() if isinstance(detail, bytes) else str(detail)
        if int(ok):
            return Reservation(granted=True, member=member, replay=detail == "replay")
        retry_ms = max(1000, int(rest[0]))
        return Reservation(granted=False, refused_by=self.limits.cap(detail),
                           retry_after=math.ceil(retry_ms / 1000))

    async def commit(self, customer: str, reservation: Reservation, hold_id: str, *,
                     expires_in: float, alias: str = "") -> None:
        """Count the reserved items under the hold inventory made, until it expires."""
        if not self.enabled:
            return
        await self._run(self.commit_script, customer,
                        [reservation.member, hold_id, int(expires_in * 1000), alias])

    async def release(self, customer: str, member: str) -> None:
        """Stop counting *member* (a reservation or hold) against *customer*."""
        if not self.enabled:
            return
        keys = self._keys(customer)
        try:
            async with asyncio.timeout(self.timeout):
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.zrem(keys[0], member)
                    pipe.hdel(keys[1], member)
                    await pipe.execute()
        except (RedisError, OSError, TimeoutError):
            self.failed_open["holdings"] += 1  # it lapses at the hold's expiry instead

    async def _run(self, script: object, customer: str, args: list[str | int]) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await script(keys=self._keys(customer), args=args)  # type: ignore[operator]
        except (RedisError, OSError, TimeoutError):
            self.failed_open["holdings"] += 1
