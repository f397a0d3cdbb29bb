"""The abuse limits on a real Redis: rate budgets shared by tasks, and exact caps on holdings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
import redis.asyncio as aioredis

from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HoldLedger, held_items
from itinera.limits.policies import parse_limits
from tests.waiting import eventually

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    """A client on the tests' Redis database."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


def someone() -> str:
    """Return a traveller no other test (or run) uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


async def test_a_budget_is_spent_once_by_concurrent_tasks_and_refills(
        redis: aioredis.Redis) -> None:
    """Two limiters (two tasks) racing for a budget of 5 get exactly 5 between them; a refund
    gives one back; a look takes nothing; the refusal says when the next one is allowed."""
    policy = parse_limits("holds=5/10s").rate("holds")
    a, b = RateLimiter(redis), RateLimiter(redis)
    key = someone()
    decisions = await asyncio.gather(*(limiter.take(policy, key)
                                       for limiter in (a, b) * 10))
    assert sum(d.allowed for d in decisions) == 5
    refused = next(d for d in decisions if not d.allowed)
    assert 1 <= refused.retry_after <= 2
    assert not (await a.peek(policy, key)).allowed
    await b.refund(policy, key)
    assert (await a.peek(policy, key)).allowed
    assert (await a.take(policy, key)).allowed
    assert not (await b.take(policy, key)).allowed


async def test_a_policy_turned_off_never_refuses(redis: aioredis.Redis) -> None:
    """`off` lets every request through without asking Redis."""
    policy = parse_limits("holds=off").rate("holds")
    limiter = RateLimiter(redis)
    assert all([(await limiter.take(policy, "x")).allowed for _ in range(30)])
    assert limiter.redis_calls == 0


async def test_concurrent_holds_never_pass_the_seat_cap(redis: aioredis.Redis) -> None:
    """Forty concurrent one-seat reservations on one flight: exactly nine pass the cap of
    nine; the refusals name flight-seats and a Retry-After."""
    ledger = HoldLedger(redis, parse_limits("active-holds=off,held-units=off"))
    customer = someone()
    one_seat = held_items([(42, 1)], [])
    answers = await asyncio.gather(*(ledger.reserve(customer, f"r{n}", one_seat)
                                     for n in range(40)))
    assert sum(a.granted for a in answers) == 9
    refused = [a for a in answers if not a.granted]
    assert {a.refused_by.name for a in refused if a.refused_by} == {"flight-seats"}
    assert all(a.retry_after >= 1 for a in refused)
    # Another flight and another traveller are untouched.
    assert (await ledger.reserve(customer, "other", held_items([(43, 9)], []))).granted
    assert (await ledger.reserve(someone(), "x", held_items([(42, 9)], []))).granted


async def test_each_cap_refuses_what_passes_it(redis: aioredis.Redis) -> None:
    """Active holds, units held, seats on a flight and rooms on a night each refuse the hold
    that would pass them, and nothing is reserved for a refused hold."""
    ledger = HoldLedger(redis, parse_limits("active-holds=2,held-units=10,flight-seats=4,"
                                            "hotel-rooms=3"))
    stay = (7, date(2030, 1, 2), date(2030, 1, 4))
    customer = someone()
    assert (await ledger.reserve(customer, "a", held_items([(1, 4)], []))).granted
    seats = await ledger.reserve(customer, "b", held_items([(1, 1)], []))
    assert seats.refused_by is not None and seats.refused_by.name == "flight-seats"
    rooms = await ledger.reserve(customer, "b", held_items([], [(*stay, 4)]))
    assert rooms.refused_by is not None and rooms.refused_by.name == "hotel-rooms"
    assert (await ledger.reserve(customer, "b", held_items([], [(*stay, 3)]))).granted
    active = await ledger.reserve(customer, "c", held_items([(2, 1)], []))
    assert active.refused_by is not None and active.refused_by.name == "active-holds"
    other = someone()
    assert (await ledger.reserve(other, "a", held_items([(1, 4), (2, 4)], []))).granted
    units = await ledger.reserve(other, "b", held_items([(3, 3)], []))
    assert units.refused_by is not None and units.refused_by.name == "held-units"


async def test_a_released_hold_frees_its_seats_and_a_replay_is_not_counted_twice(
        redis: aioredis.Redis) -> None:
    """A committed hold counts under its id; its idempotency key's replay passes the cap it
    would break if counted again; releasing it frees the seats at once."""
    ledger = HoldLedger(redis, parse_limits(""))
    customer, nine = someone(), held_items([(5, 9)], [])
    first = await ledger.reserve(customer, "r1", nine, alias="key-1")
    await ledger.commit(customer, first, "hold-1", expires_in=600, alias="key-1")
    replay = await ledger.reserve(customer, "r2", nine, alias="key-1")
    assert replay.granted and replay.replay
    again = await ledger.reserve(customer, "r3", nine, alias="key-2")
    assert again.refused_by is not None and again.refused_by.name == "flight-seats"
    assert 590 <= again.retry_after <= 600
    await ledger.release(customer, "hold-1")
    assert (await ledger.reserve(customer, "r4", nine)).granted


async def test_a_hold_nobody_released_lapses_at_its_expiry(redis: aioredis.Redis) -> None:
    """A hold whose release was lost stops counting when inventory expires it."""
    ledger = HoldLedger(redis, parse_limits(""))
    customer, nine = someone(), held_items([(6, 9)], [])
    reserved = await ledger.reserve(customer, "r1", nine)
    await ledger.commit(customer, reserved, "hold-1", expires_in=0.3)
    assert not (await ledger.reserve(customer, "r2", nine)).granted

    async def free() -> bool:
        return (await ledger.reserve(customer, "r3", nine)).granted

    await eventually(free, within=5, what="the lapsed hold stops counting")


async def test_the_ledger_fails_open_and_counts_it_when_redis_is_down() -> None:
    """With Redis unreachable holds are not refused, and each unanswered call is counted."""
    down = aioredis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.05)
    ledger = HoldLedger(down, parse_limits(""))
    answers = [await ledger.reserve("x", f"r{n}", held_items([(1, 9)], [])) for n in range(3)]
    assert all(a.granted for a in answers)
    assert ledger.failed_open["holdings"] == 3
    await down.aclose()
