"""The pool asks for the password at each connect, so a changed password is picked up."""

from __future__ import annotations

import pymysql
import pytest

from inventory.db import close_pool, create_pool, ping
from tests.integration.inventory.conftest import db_settings


async def test_new_connections_use_the_password_current_at_connect_time() -> None:
    """GIVEN a pool whose password source changes after start (a rotated secret, a renewed
    IAM token), WHEN it opens new connections, THEN each uses the value current then."""
    settings = db_settings()
    current = [settings.password]
    asked: list[str] = []

    async def password() -> str:
        asked.append(current[0])
        return current[0]

    pool = await create_pool(settings, database=False, maxsize=3, password=password)
    try:
        await ping(pool)
        current[0] = settings.password + "-no-longer-valid"
        async with pool.acquire():
            # The one open connection is busy: the pool must open another, with today's value.
            with pytest.raises(pymysql.err.OperationalError) as refused:
                async with pool.acquire():
                    pass
        assert refused.value.args[0] == 1045  # access denied: the new value was used
        current[0] = settings.password
        async with pool.acquire(), pool.acquire():
            pass
        assert asked[0] == settings.password and len(asked) >= 3
    finally:
        await close_pool(pool)


async def test_the_service_starts_without_its_database_and_says_it_is_not_ready() -> None:
    """GIVEN a database that refuses the service's login (a first deploy before the migration
    created its user), WHEN inventory starts, THEN it serves /health and /ready says 503."""
    from dataclasses import replace as with_

    from aiohttp.test_utils import TestClient, TestServer

    from inventory.main import create_app
    from tests.integration.inventory.conftest import app_settings

    settings = app_settings()
    settings = with_(settings, db=with_(settings.db, password="not-the-password"))
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await client.get("/health")).status == 200
        ready = await client.get("/ready")
        assert ready.status == 503
        assert (await ready.json())["checks"]["mysql"] == "failed"
