"""The references each path is measured against: a bare aiohttp endpoint, a bare row update."""

from __future__ import annotations

import asyncio
import sys
import time

import aiomysql
import orjson
from aiohttp import web


def serve_bare(port: int) -> None:
    """Serve `GET`/`POST /bare` answering `{"ok": true}` with orjson: the HTTP ceiling."""

    async def bare(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=orjson.dumps({"ok": True}), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/bare", bare)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def bare_updates(*, host: str, port: int, user: str, password: str, database: str,
                       tasks: int, seconds: float) -> float:
    """Return conditional one-row UPDATE + COMMITs per second from *tasks* connections.

    What a hold on a hot cabin cannot beat: one row, one lock, the log flushed per commit.
    """
    pool = await aiomysql.create_pool(host=host, port=port, user=user, password=password,
                                      db=database, maxsize=tasks, autocommit=False)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("CREATE TABLE IF NOT EXISTS bench_row (id INT PRIMARY KEY,"
                              " available BIGINT NOT NULL) ENGINE=InnoDB")
            await cur.execute("REPLACE INTO bench_row VALUES (1, 1000000000)")
            await conn.commit()
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            async with pool.acquire() as conn, conn.cursor() as cur:
                while time.perf_counter() < stop:
                    await cur.execute("UPDATE bench_row SET available = available - 1"
                                      " WHERE id = 1 AND available >= 1")
                    await conn.commit()
                    done += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return done / (time.perf_counter() - began)
    finally:
        pool.close()
        await pool.wait_closed()


if __name__ == "__main__":
    serve_bare(int(sys.argv[1]))
