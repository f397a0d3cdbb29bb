"""`itinera bench inventory`: cached search and hold throughput next to a bare aiohttp endpoint.

Three kinds of process, so the client never shares a core's event loop with the server:
the inventory service (`python -m inventory`), a bare aiohttp JSON server
(`python -m inventory.bench bare PORT`) and the load generator
(`python -m inventory.bench load ...`), one at a time. Everything listens on 127.0.0.1 only,
and every run is bounded by a duration and a request count.
"""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from inventory.db import close_pool, create_pool, fetch_all
from inventory.migrate import ensure_database, migrate
from inventory.seed import seed
from inventory.settings import DatabaseSettings

BENCH_DB = "itinera_bench_inventory"
BENCH_REDIS_DB = 12
TOKEN = "bench-token"  # noqa: S105 - a local benchmark's throwaway service token
HOT_SEATS = 1_000_000
ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, str]:
    """Return the CPU count, CPU model and Python version of this machine."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": model, "python": platform.python_version()}


# --- the processes -----------------------------------------------------------------------

def serve_bare(port: int) -> None:
    """Serve a bare aiohttp JSON endpoint on GET and POST /bare: the ceiling to compare with."""

    async def bare(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=orjson.dumps({"ok": True}), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/bare", bare)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def generate_load(url: str, method: str, body: bytes | None, headers: dict[str, str],
                        *, concurrency: int, seconds: float, max_requests: int
                        ) -> dict[str, Any]:
    """Send requests from *concurrency* workers until *seconds* or *max_requests* run out."""
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    sent = 0
    deadline = time.perf_counter() + seconds
    async with ClientSession(connector=TCPConnector(limit=concurrency),
                             timeout=ClientTimeout(total=30)) as session:

        async def worker(n: int) -> None:
            nonlocal sent
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                own = {**headers, "X-Customer-Id": f"bench-{n}-{sent}"}
                started = time.perf_counter()
                async with session.request(method, url, data=body, headers=own) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - started)
                statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "statuses": statuses,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2)
            if latencies else None}


def _load(url: str, method: str, body: dict[str, Any] | None, *, concurrency: int,
          seconds: float, max_requests: int) -> dict[str, Any]:
    raw = orjson.dumps(body).decode() if body is not None else ""
    out = subprocess.run(
        [sys.executable, "-m", "inventory.bench", "load", url, method, raw, str(concurrency),
         str(seconds), str(max_requests)], check=True, capture_output=True, cwd=ROOT,
        timeout=seconds + 60)
    result: dict[str, Any] = orjson.loads(out.stdout)
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - 127.0.0.1 only
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# --- the run -----------------------------------------------------------------------------

async def _prepare(db: DatabaseSettings) -> tuple[dict[str, str], int, str]:
    """Migrate and seed the bench database once; add a fresh hot flight; return a search."""
    await ensure_database(db)
    pool = await create_pool(db)
    try:
        await migrate(pool)
        if (await fetch_all(pool, "SELECT COUNT(*) AS n FROM flights"))[0]["n"] == 0:
            report = await seed(pool, size="large", start_date=datetime.now(UTC).date(),
                                reset=True)
            print(f"seeded large: {report.flights} flights, {report.hotels} hotels,"
                  f" {report.room_nights} room nights in {report.seconds:.1f}s")
        when = datetime.now(UTC).date() + timedelta(days=3)
        # A fresh hot flight per run, so every run starts with all its seats free.
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT GREATEST(COALESCE(MAX(id), 0), 8000000000) + 1"
                              " FROM flights")
            hot = int((await cur.fetchone())[0])
            departure = datetime.combine(when, datetime.min.time()) + timedelta(hours=9)
            await cur.execute(
                "INSERT INTO flights (id, flight_no, carrier, origin, destination, departure_utc,"
                " arrival_utc, departure_date_local, duration_min)"
                " VALUES (%s, 'BA9000', 'BA', 'LHR', 'JFK', %s, %s, %s, 480)",
                (hot, departure, departure + timedelta(minutes=480), when))
            await cur.execute("INSERT INTO flight_cabins (flight_id, cabin, capacity, available,"
                              " fare_amount, currency) VALUES (%s, 'economy', %s, %s, 45000,"
                              " 'EUR')", (hot, HOT_SEATS, HOT_SEATS))
    finally:
        await close_pool(pool)
    search = {"origin": "LHR", "destination": "JFK", "date": when.isoformat()}
    return search, hot, when.isoformat()


def run_bench(*, concurrency: int = 32, seconds: float = 5.0, max_requests: int = 50_000
              ) -> dict[str, Any]:
    """Measure and print the four figures; return them."""
    mysql = DatabaseSettings.from_env()
    db = replace(mysql, name=BENCH_DB)
    search, hot, _ = asyncio.run(_prepare(db))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    inv_port, bare_port = _free_port(), _free_port()
    env = {**os.environ, "DB_HOST": db.host, "DB_PORT": str(db.port), "DB_USER": db.user,
           "DB_PASSWORD": db.password, "DB_NAME": db.name, "GATEWAY_SERVICE_TOKEN": TOKEN,
           "CHECKOUT_SERVICE_TOKEN": TOKEN,
           "REDIS_URL": f"{redis_url}/{BENCH_REDIS_DB}", "PORT": str(inv_port),
           "HOST": "127.0.0.1", "SWEEP_INTERVAL_SECONDS": "3600"}
    inventory = subprocess.Popen([sys.executable, "-m", "inventory"], env=env, cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = subprocess.Popen([sys.executable, "-m", "inventory.bench", "bare", str(bare_port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base, bare_url = f"http://127.0.0.1:{inv_port}", f"http://127.0.0.1:{bare_port}/bare"
        _wait(base + "/health", inventory)
        _wait(bare_url, bare)
        query = "&".join(f"{k}={v}" for k, v in search.items())
        urllib.request.urlopen(f"{base}/v1/flights?{query}", timeout=5).read()  # noqa: S310 - warm the cache
        opts: dict[str, Any] = {"concurrency": concurrency, "seconds": seconds,
                                "max_requests": max_requests}
        hold = {"items": [{"kind": "flight", "flight_id": str(hot), "cabin": "economy",
                           "quantity": 1}]}
        results = {
            "search (cached)": _load(f"{base}/v1/flights?{query}", "GET", None, **opts),
            "bare GET": _load(bare_url, "GET", None, **opts),
            "holds (one hot flight)": _load(f"{base}/internal/holds", "POST", hold, **opts),
            "bare POST": _load(bare_url, "POST", hold, **opts),
        }
        stats = orjson.loads(urllib.request.urlopen(urllib.request.Request(  # noqa: S310
            f"{base}/internal/stats", headers={"X-Service-Token": TOKEN}), timeout=5).read())
    finally:
        _stop(inventory)
        _stop(bare)
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}")
    print(f"load: {concurrency} concurrent connections, {seconds:g}s or {max_requests} requests"
          " per run; client and server in separate processes on the same cores")
    for name, r in results.items():
        print(f"  {name:24} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
              f"  statuses {r['statuses']}")
    search_ratio = results["search (cached)"]["rps"] / results["bare GET"]["rps"]
    hold_ratio = results["holds (one hot flight)"]["rps"] / results["bare POST"]["rps"]
    print(f"  search / bare GET = {search_ratio:.2f};  holds / bare POST = {hold_ratio:.2f}")
    print(f"  search cache: {stats['search_cache']}")
    return {"machine": info, "results": results, "search_ratio": round(search_ratio, 3),
            "hold_ratio": round(hold_ratio, 3)}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "bare":
        serve_bare(int(sys.argv[2]))
    elif mode == "load":
        url, method, raw, concurrency, seconds, max_requests = sys.argv[2:8]
        figures = asyncio.run(generate_load(
            url, method, raw.encode() or None,
            {"X-Service-Token": TOKEN, "Content-Type": "application/json"},
            concurrency=int(concurrency), seconds=float(seconds),
            max_requests=int(max_requests)))
        print(orjson.dumps(figures).decode())
