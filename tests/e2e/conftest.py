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
from tests.stacks import own_stack


@pytest.fixture(scope="session", autouse=True)
def _servers(services: None) -> None:
    """This tier talks to the real MariaDB and Redis: make them answer first."""


@dataclass(frozen=True)
class RunningStack:
    """What a test needs to reach the stack under test."""

    config: StackConfig
    url: str
    issuer: LocalIssuer
    stack: LocalStack

    @classmethod
    def of(cls, running: LocalStack) -> RunningStack:
        """Describe a started stack."""
        config = running.config
        return cls(config=config, url=f"http://127.0.0.1:{config.gateway_port}",
                   issuer=LocalIssuer(config.state_dir / "jwt"), stack=running)

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
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Start every service, as `make run` does, against the real MariaDB, Redis and moto."""
    state: Path = tmp_path_factory.mktemp("stack")
    with own_stack("e2e", state) as running:
        yield RunningStack.of(running)


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
