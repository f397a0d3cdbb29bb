"""The local stacks the tests start, and the one table of where each one lives.

The e2e session stack serves most end-to-end tests; a few modules need a stack configured
differently (IAM enforced, fault proxies, production limits, fast autoscaling) and start
their own. Each stack gets its own ports, MariaDB database and Redis db from `PLACES`, so
stacks alive at the same time never share state: a stack clears its Redis db's limiter keys
when it starts, and its tasks cache into that db.

Redis dbs taken elsewhere: 0 by `make run`, 9, 13 and 15 by the integration tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localaws.config import StackConfig
from localaws.stack import LocalStack

# A second run on the same machine moves every stack's ports by 1,000 and renames its
# databases; Redis has only 16 dbs, so that run also needs a Redis of its own (REDIS_URL).
SHIFT = int(os.environ.get("ITINERA_TEST_PORT_SHIFT", "0"))


@dataclass(frozen=True)
class Place:
    """Where one stack lives: its first port, database and Redis db."""

    port_base: int
    database: str
    redis_db: int


def _place(offset: int, name: str, redis_db: int) -> Place:
    suffix = f"_{SHIFT}" if SHIFT else ""
    return Place(port_base=18080 + 1000 * SHIFT + offset, database=f"itinera_{name}{suffix}",
                 redis_db=redis_db)


# A stack uses fewer than 100 ports above its base (StackConfig.all_ports).
PLACES: Mapping[str, Place] = {
    "e2e": _place(0, "e2e", 3),
    "lifecycle": _place(100, "e2e_lifecycle", 4),
    "iam": _place(500, "e2e_iam", 5),
    "faults": _place(600, "e2e_faults", 6),
    "gameday": _place(700, "e2e_gameday", 7),
    "limits": _place(800, "e2e_limits", 8),
    "ecs": _place(900, "e2e_ecs", 10),
}


# What every test stack's processes get unless the test says otherwise. A short cache
# lifetime lets tests see availability change without waiting long; a short body timeout lets
# the slow-body tests finish in seconds. The test stages raise the per-traveller abuse limits
# as a load-test stage would: their few named travellers hold and book all session long (the
# contract fuzzer alone makes hundreds of holds); test_abuse_limits.py runs the production
# limits on a stack of its own.
TEST_STAGE_LIMITS = ("holds=100000/1h,item-holds=100000/1h,active-holds=100000,"
                     "held-units=100000,flight-seats=100000,hotel-rooms=100000,"
                     "booking-attempts=100000/1h,declines=100000/1h")
TEST_ENV: Mapping[str, str | None] = {"CACHE_TTL_SECONDS": "1", "BODY_TIMEOUT_SECONDS": "2",
                                      "LIMITS": TEST_STAGE_LIMITS}


def _apply(values: Mapping[str, str | None]) -> None:
    """Set each variable, or remove it for None."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def environment(overrides: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables the stack's processes inherit, and
    put them back afterwards."""
    saved = {key: os.environ.get(key) for key in overrides}
    try:
        _apply(overrides)
        yield
    finally:
        _apply(saved)


@contextmanager
def own_stack(name: str, state: Path, *, env: Mapping[str, str | None] | None = None,
              **config: Any) -> Iterator[LocalStack]:
    """Start the stack *name* (its place from `PLACES`, stage *name*) with *config* on top of
    it and `TEST_ENV` updated by *env* for its processes (they read it when they start); stop
    it, whatever happened."""
    place = PLACES[name]
    stack_config = StackConfig(port_base=place.port_base, database=place.database,
                               redis_db=place.redis_db, state_dir=state, stage=name, **config)
    running = LocalStack(stack_config, say=lambda line: None)
    try:
        with environment({**TEST_ENV, **(env or {})}):
            running.start()
        yield running
    finally:
        running.stop()
