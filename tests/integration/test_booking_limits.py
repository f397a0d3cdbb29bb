"""Card testing's limits on a real Redis, with the production values (the local stage widens
the per-card ones, since every local traveller pays with the simulator's three cards)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from checkout.limits import BookingLimits
from checkout.payments import SimulatedPaymentProvider
from itinera.errors import LimitExceeded
from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HoldLedger, held_items
from itinera.limits.policies import Policy, parse_limits

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
async def limits() -> AsyncIterator[tuple[BookingLimits, list[str]]]:
    """Booking limits with the production defaults, and the refusals they counted."""
    redis = aioredis.Redis.from_url(REDIS_URL)
    refused: list[str] = []

    def count(policy: Policy) -> None:
        refused.append(policy.name)

    defaults = parse_limits("")
    yield BookingLimits(RateLimiter(redis), HoldLedger(redis, defaults), defaults,
                        refused=count), refused
    await redis.aclose()


def fingerprint_of(number: str) -> str:
    """Return the card's fingerprint as a run of the API would compute it."""
    return SimulatedPaymentProvider(None, "payments", fingerprint_key=b"k").fingerprint(number)


async def test_one_card_tried_from_many_accounts_is_refused_after_ten(
        limits: tuple[BookingLimits, list[str]]) -> None:
    """Ten checkouts with one card pass whoever makes them; the eleventh is refused with the
    card's code, and the refusal is counted; another card is untouched."""
    booking, refused = limits
    card = fingerprint_of(f"4{uuid.uuid4().int % 10**15:015d}")
    for _ in range(10):
        await booking.admit_traveller(f"account-{uuid.uuid4().hex[:8]}")
        await booking.admit_card(card)
    with pytest.raises(LimitExceeded) as refusal:
        await booking.admit_card(card)
    assert refusal.value.code == "too_many_card_attempts" and refused == ["card-attempts"]
    assert refusal.value.extra["retry_after"] >= 300  # one attempt back every six minutes
    await booking.admit_card(fingerprint_of("4242424242424242" + uuid.uuid4().hex[:1]))


async def test_a_card_declined_three_times_is_refused_to_everyone(
        limits: tuple[BookingLimits, list[str]]) -> None:
    """Three declines of one card, by three travellers, close it to a fourth traveller."""
    booking, refused = limits
    card = fingerprint_of(f"5{uuid.uuid4().int % 10**15:015d}")
    for n in range(3):
        await booking.declined(f"victim-{n}-{uuid.uuid4().hex[:6]}", card)
    with pytest.raises(LimitExceeded) as refusal:
        await booking.admit_card(card)
    assert refusal.value.code == "card_declined_too_often" and refused == ["card-declines"]


async def test_a_traveller_declined_five_times_is_refused_before_the_card_is_read(
        limits: tuple[BookingLimits, list[str]]) -> None:
    """Five declines on five cards close the traveller, whatever card comes next."""
    booking, _ = limits
    traveller = f"tester-{uuid.uuid4().hex[:8]}"
    for n in range(5):
        await booking.declined(traveller, fingerprint_of(f"6{n}{uuid.uuid4().int % 10**14:014d}"))
    with pytest.raises(LimitExceeded) as refusal:
        await booking.admit_traveller(traveller)
    assert refusal.value.code == "too_many_declines"


async def test_a_settled_booking_stops_counting_its_hold(
        limits: tuple[BookingLimits, list[str]]) -> None:
    """When the worker settles a booking its hold leaves the traveller's ledger at once."""
    booking, _ = limits
    traveller, nine = f"family-{uuid.uuid4().hex[:8]}", held_items([(77, 9)], [])
    reserved = await booking.ledger.reserve(traveller, "r1", nine)
    await booking.ledger.commit(traveller, reserved, "hold-1", expires_in=900)
    assert not (await booking.ledger.reserve(traveller, "r2", nine)).granted
    await booking.settled(traveller, "hold-1")
    assert (await booking.ledger.reserve(traveller, "r3", nine)).granted


def test_a_fingerprint_follows_the_number_not_the_token_and_hides_it() -> None:
    """Every tokenization of one number has one fingerprint; another key gives another; the
    number cannot be read from it."""
    number = "4242424242424242"
    assert fingerprint_of(number) == fingerprint_of(number) != fingerprint_of("4000056655665556")
    other = SimulatedPaymentProvider(None, "p", fingerprint_key=b"other").fingerprint(number)
    assert other != fingerprint_of(number) and number not in fingerprint_of(number)
    with pytest.raises(RuntimeError, match="CARD_FINGERPRINT"):
        SimulatedPaymentProvider(None, "p").fingerprint(number)
