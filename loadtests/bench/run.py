"""Start a private stack, measure each hot path next to its reference, print ratios, stop."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomysql

from itinera.auth import LocalIssuer
from itinera.limits.policies import DEFAULTS
from loadtests.bench import wrk
from loadtests.bench.reference import bare_updates
from localaws.config import ROOT, StackConfig
from localaws.processes import port_open, python, wait_http
from localaws.stack import LocalStack

REPORTS = ROOT / "reports" / "bench"
HOT_SEATS = 1_000_000
# Searches by one client (wrk) would spend one budget, and its few travellers would meet the
# hold and booking limits at once; the bench measures the paths, so its private stack turns
# every abuse limit off.
RAISED_LIMITS = {"LIMITS": ",".join(f"{p.name}=off" for p in DEFAULTS)}


@dataclass(frozen=True, kw_only=True)
class Options:
    """How long and how hard each path is pushed."""

    rounds: int = 3
    seconds: float = 8.0
    get_connections: int = 64
    hold_connections: int = 32
    checkout_rate: float = 50.0
    checkout_seconds: int = 60
    checkout: bool = True
    port_base: int = 27080


@dataclass(frozen=True)
class Row:
    """One line of the table: a path, its figure, the reference's, and the target."""

    path: str
    itinera: str
    reference: str
    ratio: float | None
    target: str
    met: bool


def run(options: Options) -> int:
    """Run the bench and print its table; return 0 (a missed target is reported, not fatal)."""
    wrk.require_wrk()
    config = StackConfig(port_base=options.port_base, state_dir=ROOT / ".local" / "bench",
                         stage="bench", database="itinera_bench", redis_db=14,
                         monitoring=False, autoscaling=False)
    os.environ.update(RAISED_LIMITS)
    stack = LocalStack(config, say=lambda line: print(f"  {line}", flush=True))
    bare_port = options.port_base + 9
    if port_open("127.0.0.1", bare_port):
        raise RuntimeError(f"port {bare_port} is taken")
    print("starting a private stack for the bench ...", flush=True)
    stack.start()
    bare = subprocess.Popen([python(), "-m", "loadtests.bench.reference", str(bare_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{bare_port}/bare", child=None)
        rows, figures = measure(options, stack, bare_url=f"http://127.0.0.1:{bare_port}/bare")
    finally:
        bare.terminate()
        bare.wait(10)
        stack.stop()
    print_table(rows)
    REPORTS.mkdir(parents=True, exist_ok=True)
    out = REPORTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"options": asdict(options), "machine": machine(),
                               "rows": [asdict(r) for r in rows], "figures": figures},
                              indent=2))
    print(f"figures: {out}")
    return 0


def measure(options: Options, stack: LocalStack, *, bare_url: str
            ) -> tuple[list[Row], dict[str, Any]]:
    """Measure every path and its reference in interleaved rounds; return the table."""
    cfg = stack.config
    url = f"http://127.0.0.1:{cfg.gateway_port}"
    flight, day = hot_flight(url)
    asyncio.run(raise_capacity(stack, flight))
    token = LocalIssuer(cfg.state_dir / "jwt").mint("bench-traveller", ttl=4 * 3600)
    search = f"{url}/v1/flights?origin=LHR&destination=JFK&date={day}"
    hold = json.dumps({"items": [{"kind": "flight", "flight_id": flight, "cabin": "economy",
                                  "quantity": 1}]}).encode()
    hold_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    db: dict[str, Any] = {"host": stack.mysql.host, "port": stack.mysql.port,
                          "user": stack.mysql.user,
          "password": stack.mysql.password, "database": cfg.database}
    wrk.run(search, connections=8, seconds=2)  # warm the caches and the connection pools
    rounds: dict[str, list[wrk.Result | float]] = {"bare": [], "search": [], "update": [],
                                                   "holds": []}
    for n in range(options.rounds):
        print(f"round {n + 1} of {options.rounds} ...", flush=True)
        rounds["bare"].append(wrk.run(bare_url, connections=options.get_connections,
                                      seconds=options.seconds))
        rounds["search"].append(wrk.run(search, connections=options.get_connections,
                                        seconds=options.seconds))
        rounds["update"].append(asyncio.run(bare_updates(
            **db, tasks=options.hold_connections, seconds=options.seconds)))
        rounds["holds"].append(wrk.run(f"{url}/v1/holds", method="POST", body=hold,
                                       headers=hold_headers,
                                       connections=options.hold_connections,
                                       seconds=options.seconds))
    search_rps = statistics.median(r.rps for r in rounds["search"])  # type: ignore[union-attr]
    half = paced(search, rate=search_rps / 2, connections=options.get_connections,
                 seconds=options.seconds)
    counts = asyncio.run(cabin_counts(stack, flight))
    rows = table(options, rounds, half, counts)
    figures: dict[str, Any] = {k: [asdict(v) if isinstance(v, wrk.Result) else v for v in vs]
                               for k, vs in rounds.items()}
    figures.update(half_rate=asdict(half), hot_cabin=counts)
    if options.checkout:
        checkout = run_checkout(options, cfg, url)
        figures["checkout"] = checkout
        rows.append(checkout_row(options, checkout))
    return rows, figures


def table(options: Options, rounds: dict[str, list[Any]], half: wrk.Result,
          counts: dict[str, int]) -> list[Row]:
    """Return the rows for search, search at half rate and holds (medians of the rounds)."""
    ratios = {name: statistics.median(
        (r.rps / ref.rps if isinstance(ref, wrk.Result) else r.rps / ref)
        for r, ref in zip(rounds[name], rounds[base], strict=True))
        for name, base in (("search", "bare"), ("holds", "update"))}
    search = statistics.median(r.rps for r in rounds["search"])
    bare = statistics.median(r.rps for r in rounds["bare"])
    holds = statistics.median(r.rps for r in rounds["holds"])
    update = statistics.median(rounds["update"])
    errors = sum(r.non_2xx for name in ("search", "holds") for r in rounds[name])
    sound = counts["capacity"] == counts["available"] + counts["held"] + counts["sold"] \
        and min(counts.values()) >= 0
    return [
        Row("cached flight search through the gateway (req/s)", f"{search:,.0f}",
            f"{bare:,.0f} bare aiohttp GET", ratios["search"], ">= 0.33",
            ratios["search"] >= 1 / 3 and not errors),
        Row("  the same at half that rate: p99", f"{half.p99_ms:.1f} ms at {half.rps:,.0f}/s",
            "", None, "< 25 ms", half.p99_ms < 25 and not half.non_2xx),
        Row(f"one-seat holds on one hot cabin, {options.hold_connections} connections "
            "(holds/s)", f"{holds:,.0f}",
            f"{update:,.0f} bare UPDATE+COMMIT", ratios["holds"], ">= 0.5",
            ratios["holds"] >= 0.5 and sound),
        Row("  hot cabin after the run", "capacity = available + held + sold" if sound
            else f"BROKEN {counts}", "", None, "holds, none negative", sound),
    ]


def paced(url: str, *, rate: float, connections: int, seconds: float) -> wrk.Result:
    """Return wrk's figures with every connection paced so that all together offer *rate*."""
    # Each connection waits this long after each answer; fast answers keep the rate close.
    return wrk.run(url, connections=connections, seconds=seconds,
                   delay_ms=max(0.0, connections / rate * 1000 - 1.0))


def run_checkout(options: Options, cfg: StackConfig, url: str) -> dict[str, Any]:
    """Offer checkouts at a constant rate with `itinera load checkout`; return its summary."""
    print(f"checkout at {options.checkout_rate:g}/s for {options.checkout_seconds}s ...",
          flush=True)
    folder = REPORTS / "checkout"
    users = int(max(20, options.checkout_rate * 3))
    subprocess.run([python(), "-m", "cli.main", "--state-dir", str(cfg.state_dir), "load",
                    "checkout", "--host", url, "--users", str(users),
                    "--rate", str(options.checkout_rate),
                    "--duration", str(options.checkout_seconds),
                    "--report-dir", str(folder)], check=False,
                   timeout=options.checkout_seconds + 400)
    latest = max(folder.glob("*-checkout/summary.json"), key=lambda p: p.stat().st_mtime)
    return dict(json.loads(latest.read_text()))


def checkout_row(options: Options, summary: dict[str, Any]) -> Row:
    """Return the checkout row from an `itinera load checkout` summary."""
    by_name = {t["name"]: t for t in summary["thresholds"]}
    p50 = by_name.get("p50 time to confirmed", {}).get("observed")
    p95 = by_name.get("p95 time to confirmed", {}).get("observed")
    bookings, invariants = summary["bookings"], summary["invariants"]
    held = (invariants.get("holds") and bookings["not_as_expected"] == 0
            and p95 is not None and p95 < 1000)
    return Row(f"checkout at {options.checkout_rate:g}/s for {options.checkout_seconds}s: "
               "POST -> confirmed",
               f"p50 {p50:,.0f} ms, p95 {p95:,.0f} ms" if p95 is not None else "not measured",
               f"{bookings['checkouts']} checkouts, {bookings['confirmed_per_second']}/s "
               f"confirmed; invariants {'hold' if invariants.get('holds') else 'BROKEN'}",
               None, "p95 < 1 s, all terminal", bool(held))


def hot_flight(url: str) -> tuple[str, str]:
    """Return a LHR-JFK flight three days ahead and its day."""
    day = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    with urllib.request.urlopen(  # noqa: S310 - the private stack on 127.0.0.1
            f"{url}/v1/flights?origin=LHR&destination=JFK&date={day}", timeout=10) as resp:
        return str(json.load(resp)["items"][0]["id"]), day


async def _cabin(stack: LocalStack, sql: str, args: tuple[Any, ...]) -> dict[str, int]:
    conn = await aiomysql.connect(host=stack.mysql.host, port=stack.mysql.port,
                                  user=stack.mysql.user, password=stack.mysql.password,
                                  db=stack.config.database, autocommit=True)
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(sql, args)
            row = await cur.fetchone()
            return {k: int(v) for k, v in (row or {}).items()}
    finally:
        conn.close()


async def raise_capacity(stack: LocalStack, flight: str) -> None:
    """Give the hot cabin a million seats, so every hold of the run finds one."""
    await _cabin(stack, "UPDATE flight_cabins SET capacity = %s, available = %s - held - sold"
                        " WHERE flight_id = %s AND cabin = 'economy'",
                 (HOT_SEATS, HOT_SEATS, int(flight)))


async def cabin_counts(stack: LocalStack, flight: str) -> dict[str, int]:
    """Return the hot cabin's capacity, available, held and sold."""
    return await _cabin(stack, "SELECT capacity, available, held, sold FROM flight_cabins"
                               " WHERE flight_id = %s AND cabin = 'economy'", (int(flight),))


def print_table(rows: list[Row]) -> None:
    """Print the rows with their ratios and whether each target was met."""
    info = machine()
    print(f"\nmachine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}; "
          "wrk -t1, stack, references and client on the same cores")
    width = max(len(r.path) for r in rows)
    for r in rows:
        ratio = f"{r.ratio:5.2f}" if r.ratio is not None else "     "
        print(f"{r.path:<{width}}  {r.itinera:>28}  {r.reference:<44} {ratio}  "
              f"target {r.target:<22} {'met' if r.met else 'MISSED'}")


def machine() -> dict[str, str]:
    """Return the CPU count, CPU model and Python version."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"nproc": str(os.cpu_count()), "cpu": model, "python": sys.version.split()[0],
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
