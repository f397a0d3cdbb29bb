"""The MySQL pool and the transaction helper every repository uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import aiomysql
import pymysql

from inventory.credentials import PasswordSource, password_source, tls_context
from inventory.settings import DatabaseSettings

log = logging.getLogger("inventory.db")

T = TypeVar("T")
Cursor: TypeAlias = aiomysql.DictCursor
# Deadlock and lock wait timeout: the transaction was rolled back and may simply be retried.
RETRYABLE_ERRORS = frozenset({1213, 1205})


class CredentialPool(aiomysql.Pool):  # type: ignore[misc]  # aiomysql ships no types
    """An aiomysql pool that asks for the password whenever it opens connections.

    The pool reconnects every `pool_recycle` seconds, long after a start-time password may have
    changed (an IAM token lasts 15 minutes; a rotated secret a week). aiomysql keeps the
    connect arguments in `_conn_kwargs` and opens connections only in `_fill_free_pool`
    (aiomysql is pinned; tests/integration/inventory/test_inventory_credentials.py guards this).
    """

    def __init__(self, *, password: PasswordSource, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._password = password

    async def _fill_free_pool(self, override_min: bool) -> None:
        self._conn_kwargs["password"] = await self._password()
        await super()._fill_free_pool(override_min)


async def create_pool(db: DatabaseSettings, *, database: bool = True, maxsize: int = 10,
                      minsize: int = 1, password: PasswordSource | None = None
                      ) -> aiomysql.Pool:
    """Open a pool to *db*; autocommit so reads never see a stale snapshot."""
    tls = tls_context(db)
    pool = CredentialPool(
        password=password or password_source(db),
        minsize=minsize, maxsize=maxsize, echo=False, pool_recycle=300,
        loop=asyncio.get_running_loop(),
        host=db.host, port=db.port, user=db.user, db=db.name if database else None,
        charset="utf8mb4", autocommit=True, connect_timeout=5, ssl=tls,
        # An IAM token is sent as a clear-text password, which TLS (required for iam) protects.
        auth_plugin="mysql_clear_password" if db.auth == "iam" else "",
        # Every DATETIME column holds UTC; this makes CURRENT_TIMESTAMP agree with UTC_TIMESTAMP.
        init_command="SET time_zone = '+00:00'",
    )
    if minsize:
        async with pool._cond:  # as aiomysql.create_pool does: open minsize connections now
            await pool._fill_free_pool(False)
    return pool


async def close_pool(pool: aiomysql.Pool) -> None:
    """Close *pool* and wait for its connections to go."""
    pool.close()
    await pool.wait_closed()


async def ping(pool: aiomysql.Pool) -> None:
    """Run `SELECT 1` on a pooled connection."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT 1")


async def fetch_all(pool: aiomysql.Pool, sql: str, args: Any = None) -> list[dict[str, Any]]:
    """Run one read outside any transaction and return its rows as dicts."""
    async with pool.acquire() as conn, conn.cursor(Cursor) as cur:
        await cur.execute(sql, args)
        return list(await cur.fetchall())


async def in_transaction(pool: aiomysql.Pool, work: Callable[[Cursor], Awaitable[T]], *,
                         attempts: int = 4) -> T:
    """Run *work* in one transaction, retrying it on deadlock or lock wait timeout."""
    for attempt in range(attempts):
        async with pool.acquire() as conn:
            try:
                await conn.begin()
                async with conn.cursor(Cursor) as cur:
                    result = await work(cur)
                await conn.commit()
                return result
            except pymysql.err.OperationalError as exc:
                await _rollback(conn)
                if exc.args[0] not in RETRYABLE_ERRORS or attempt + 1 == attempts:
                    raise
                log.warning("transaction retried", extra={"mysql_error": exc.args[0],
                                                          "attempt": attempt + 1})
            except Exception:
                await _rollback(conn)
                raise
            # On cancellation the pool closes the connection, which is still in a transaction.
        await asyncio.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter
    raise AssertionError("unreachable")


async def _rollback(conn: aiomysql.Connection) -> None:
    # A lost connection cannot roll back; the server already did, and the pool drops it.
    with contextlib.suppress(Exception):
        await conn.rollback()
