"""Inventory answers 503 with Retry-After when MySQL cannot be reached, 500 for other errors."""

from __future__ import annotations

import pymysql
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from inventory.unavailable import connection_lost, database_unavailable_middleware
from itinera.errors import DependencyUnavailable


@pytest.mark.parametrize("exc", [
    pymysql.err.OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1'"),
    pymysql.err.OperationalError(2006, "MySQL server has gone away"),
    pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
    pymysql.err.InterfaceError(0, ""),
    ConnectionResetError(),
])
def test_a_lost_or_refused_connection_is_unavailability(exc: BaseException) -> None:
    """Refused, gone-away and lost connections mean the database is unreachable."""
    assert connection_lost(exc)


@pytest.mark.parametrize("exc", [
    pymysql.err.OperationalError(1213, "Deadlock found"),
    pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"),
    ValueError("bug"),
])
def test_a_failed_statement_is_not_unavailability(exc: BaseException) -> None:
    """A deadlock, a lock wait timeout or a bug is not the database being unreachable."""
    assert not connection_lost(exc)


async def test_the_middleware_turns_a_refused_connection_into_503_with_retry_after() -> None:
    """A handler that cannot reach MySQL raises DependencyUnavailable (503, retry_after)."""
    async def handler(request: web.Request) -> web.StreamResponse:
        raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")

    with pytest.raises(DependencyUnavailable) as raised:
        await database_unavailable_middleware(make_mocked_request("GET", "/v1/flights"), handler)
    assert raised.value.status == 503 and raised.value.extra["retry_after"] == 1


async def test_the_middleware_leaves_other_errors_alone() -> None:
    """A deadlock that outlived its retries is not dressed up as unavailability."""
    async def handler(request: web.Request) -> web.StreamResponse:
        raise pymysql.err.OperationalError(1213, "Deadlock found")

    with pytest.raises(pymysql.err.OperationalError):
        await database_unavailable_middleware(make_mocked_request("GET", "/v1/holds"), handler)
