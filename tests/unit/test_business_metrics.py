"""The pure parts of the business metrics: cache deltas and time to confirmed."""

from __future__ import annotations

from checkout.model import Booking
from checkout.worker import OUTCOME_METRICS, time_to_confirmed_ms
from inventory.metrics import cache_deltas

COUNTERS = {"hits": 0, "misses": 0, "loads": 0, "bypassed": 0, "redis_errors": 0}


def test_cache_deltas_are_none_while_idle() -> None:
    """No lookups and no errors since the last tick: nothing to write."""
    assert cache_deltas(COUNTERS, COUNTERS) is None


def test_cache_deltas_count_since_the_last_tick_with_the_hit_ratio() -> None:
    """Three hits and one miss since the last tick give a ratio of 0.75."""
    last = {**COUNTERS, "hits": 10, "misses": 5}
    now = {**COUNTERS, "hits": 13, "misses": 6, "loads": 1}
    assert cache_deltas(now, last) == {
        "SearchCacheHits": 3, "SearchCacheMisses": 1, "SearchLoads": 1,
        "SearchServedWithoutRedis": 0, "RedisErrors": 0, "SearchCacheHitRatio": 0.75}


def booking(created_at: str, updated_at: str) -> Booking:
    """A confirmed booking with the given timestamps."""
    return Booking(booking_id="b", customer_id="c", hold_id="h", status="confirmed",
                   amount=100, currency="EUR", items=[], contact_email="a@example.com",
                   contact_name="A", payment_method="card", created_at=created_at,
                   updated_at=updated_at)


def test_time_to_confirmed_is_from_creation_to_the_confirming_update() -> None:
    """A booking created at .000 and confirmed at 1.250 took 1250 ms."""
    assert time_to_confirmed_ms(booking("2026-01-01T00:00:00.000Z",
                                        "2026-01-01T00:00:01.250Z")) == 1250.0


def test_every_booking_status_has_an_outcome_metric() -> None:
    """Each status the saga can end in maps to a Bookings<Status> metric name."""
    assert OUTCOME_METRICS == {"confirmed": "BookingsConfirmed", "failed": "BookingsFailed",
                               "cancelled": "BookingsCancelled", "pending": "BookingsPending"}
