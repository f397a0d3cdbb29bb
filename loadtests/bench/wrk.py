"""Drive wrk (Debian's HTTP load generator) and read what it measured."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

# Counts answers by status in every wrk thread and prints them at the end; with a delay,
# each connection waits between requests, which paces the whole run to a chosen rate.
LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {{}} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
{delay}
-- Each thread counts in its own Lua state; done() runs in the main one and asks them.
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write("status " .. status .. " " .. n .. "\\n")
    end
  end
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Result:
    """Requests per second, latency percentiles in ms, and answers by status."""

    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def non_2xx(self) -> int:
        """Return how many answers were not 2xx."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def require_wrk() -> str:
    """Return wrk's path, or raise with how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return found


def run(url: str, *, connections: int, seconds: float, method: str = "GET",
        body: bytes | None = None, headers: dict[str, str] | None = None,
        delay_ms: float | None = None) -> Result:
    """Load *url* with one wrk thread and *connections* connections for *seconds*."""
    lua = LUA.format(
        method=_lua_string(method), body=_lua_string((body or b"").decode()) if body else "nil",
        headers="\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}"
                          for k, v in (headers or {}).items()),
        delay=f"function delay() return {delay_ms:.3f} end" if delay_ms else "")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(lua)
        out = subprocess.run(
            [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
             "--timeout", "10s", "-s", str(script), url],
            capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    return parse(out)


def parse(out: str) -> Result:
    """Read requests per second, p50, p99 and status counts from wrk's output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = {int(p): float(v) * _UNITS[u] for p, v, u in
                   re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)}
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.MULTILINE)}
    return Result(rps=rps, p50_ms=percentiles.get(50, 0.0), p99_ms=percentiles.get(99, 0.0),
                  statuses=statuses)


def _lua_string(text: str) -> str:
    # JSON string literals are valid Lua string literals for the characters we send.
    return orjson.dumps(text).decode()
