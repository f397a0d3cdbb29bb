"""MySQL unreachable (an Aurora failover, a lost writer) answers 503 with Retry-After, not 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pymysql
from aiohttp import web

from itinera.errors import DependencyUnavailable

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Client error codes of a connection that could not be made or was lost: can't connect (2003),
# server gone away (2006), lost connection during a query (2013) or at handshake (2055).
CONNECTION_LOST = frozenset({2003, 2006, 2013, 2055})


def connection_lost(exc: BaseException) -> bool:
    """Return whether *exc* means MySQL could not be reached, not that a statement failed."""
    if isinstance(exc, pymysql.err.InterfaceError):
        return True  # a closed connection used again
    if isinstance(exc, pymysql.err.OperationalError):
        return bool(exc.args) and exc.args[0] in CONNECTION_LOST
    return isinstance(exc, ConnectionError)


@web.middleware
async def database_unavailable_middleware(request: web.Request, handler: Handler
                                          ) -> web.StreamResponse:
    """Answer a request that lost MySQL with 503 and Retry-After: the client may try again."""
    try:
        return await handler(request)
    except (pymysql.err.OperationalError, pymysql.err.InterfaceError, ConnectionError) as exc:
        if not connection_lost(exc):
            raise
        raise DependencyUnavailable("the database is unavailable; retry shortly") from exc
