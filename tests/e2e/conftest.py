"""The whole local stack, started once for the end-to-end tests on ports of their own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import aiomysql
import pytest

from itinera.auth import LocalIssuer
from localaws.config import StackConfig
from localaws.stack import LocalStack


@pytest.fixture(scope="session", autouse=True)
def _servers(services: None) -> None:
    """This tier talks to the real MariaDB and Redis: make them answer first."""


# Separate ports, database and Redis db let several test runs share one machine.
E2E_PORT_BASE = int(os.environ.get("ITINERA_E2E_PORT_BASE", "18080"))
E2E_DATABASE = os.environ.get("ITINERA_E2E_DATABASE", "itinera_e2e")
E2E_REDIS_DB = int(os.environ.get("ITINERA_E2E_REDIS_DB", "3"))
# The e2e stage is a test stage: its few named travellers hold and book all session long (the
# contract fuzzer alone makes hundreds of holds), so it raises the per-traveller abuse limits
# as a load-test stage would. test_abuse_limits.py runs the production limits on a stack of
# its own.
TEST_STAGE_LIMITS = ("holds=100000/1h,item-holds=100000/1h,active-holds=100000,"
                     "held-units=100000,flight-seats=100000,hotel-rooms=100000,"
                     "booking-attempts=100000/1h,declines=100000/1h")


@dataclass(frozen=True)
class RunningStack:
    """What a test needs to reach the stack under test."""

    config: StackConfig
    url: str
    issuer: LocalIssuer
    stack: LocalStack

    def token(self, sub: str, **kwargs: object) -> str:
        """Mint a traveller token the gateway accepts."""
        return self.issuer.mint(sub, **kwargs)  # type: ignore[arg-type]

    def set_desired_count(self, service: str, desired: int) -> None:
        """Set *service*'s desired count, as `aws ecs update-service --desired-count` does."""
        self.stack.scheduler.update_service(service, desired)

    def task_pids(self, service: str) -> list[int]:
        """Return the pids of *service*'s running tasks (the ECS stand-in places them)."""
        tasks = self.stack.scheduler.snapshot()[service]["tasks"].values()
        return [int(t["pid"]) for t in tasks if t["state"] == "RUNNING"]


@pytest.fixture(scope="session")
def stack(services: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Start every service, as `make run` does, against the real MariaDB, Redis and moto."""
    state: Path = tmp_path_factory.mktemp("stack")
    config = StackConfig(port_base=E2E_PORT_BASE, state_dir=state, stage="e2e",
                         database=E2E_DATABASE, redis_db=E2E_REDIS_DB)
    # A short cache lifetime lets tests see availability change without waiting long.
    os.environ["CACHE_TTL_SECONDS"] = "1"
    # A short body timeout lets the slow-body test finish in seconds.
    os.environ["BODY_TIMEOUT_SECONDS"] = "2"
    os.environ["LIMITS"] = TEST_STAGE_LIMITS
    running = LocalStack(config, say=lambda line: None)
    running.start()
    try:
        yield RunningStack(config=config, url=f"http://127.0.0.1:{config.gateway_port}",
                           issuer=LocalIssuer(state / "jwt"), stack=running)
    finally:
        running.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP client for the session."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture(scope="session")
async def db(stack: RunningStack) -> AsyncIterator[aiomysql.Pool]:
    """A pool on the stack's MariaDB database, to check inventory counts directly."""
    pool = await aiomysql.create_pool(host=os.environ.get("DB_HOST", "127.0.0.1"),
                                      port=int(os.environ.get("DB_PORT", "3306")),
                                      user=os.environ.get("DB_USER", "itinera"),
                                      password=os.environ.get("DB_PASSWORD", "itinera"),
                                      db=stack.config.database, autocommit=True, maxsize=2)
    yield pool
    pool.close()
    await pool.wait_closed()
