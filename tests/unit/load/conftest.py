"""Stats that locust wrote during real runs against the local stack, kept as test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.stats import Recorded, read_recorded

RECORDED = Path(__file__).resolve().parent / "recorded"


@pytest.fixture(scope="session")
def booking_run() -> Recorded:
    """A 20 s booking run with 10 users: every request passed, bookings confirmed in ~1.3 s."""
    return read_recorded(RECORDED / "booking")


@pytest.fixture(scope="session")
def flash_sale_run() -> Recorded:
    """A 30 s flash sale: 30 seats won in seconds, then 149 answers of 409 sold_out."""
    return read_recorded(RECORDED / "flash-sale")
