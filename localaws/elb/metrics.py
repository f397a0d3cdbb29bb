"""Per-target and per-AZ figures from `show stat`, shaped after ALB's target-group metrics."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from localaws.config import AZS
from localaws.elb.haproxy import FAIL_OPEN_SUFFIX

_TASK_NUMBER = re.compile(r"-[0-9]+$")
# HAProxy's server status, in the words of ALB's target health.
HEALTH = {"UP": "healthy", "DOWN": "unhealthy", "NOLB": "draining", "DRAIN": "draining",
          "MAINT": "unused"}


@dataclass
class TargetFigures:
    """Counters for some targets; they add up, so an AZ's are the sum of its targets'."""

    # HTTPCode_Target_NXX_Count: answers the targets themselves sent.
    http_2xx: int = 0
    http_3xx: int = 0
    http_4xx: int = 0
    http_5xx: int = 0
    # TargetConnectionErrorCount, and the answers that broke off (no ALB twin).
    connection_errors: int = 0
    response_errors: int = 0
    retries: int = 0
    redispatches: int = 0
    # HealthyHostCount / UnHealthyHostCount.
    healthy: int = 0
    unhealthy: int = 0
    # Requests in flight now.
    in_flight: int = 0

    def add(self, other: TargetFigures) -> None:
        """Add *other*'s counters to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def health_of(status: str) -> str:
    """Return ALB's word for a `show stat` status such as `UP`, `UP 1/3` or `MAINT (via x)`."""
    word = status.split(" ", 1)[0]
    return HEALTH.get(word, "unavailable" if word == "no" else word.lower())


def az_of(server: str) -> str | None:
    """Return the AZ in a server's name (`gateway-az-a`, `gateway-az-a-3` -> `az-a`), or None."""
    base = server.removesuffix(FAIL_OPEN_SUFFIX)
    # The ECS stand-in names its tasks `<service>-<az>-<n>`.
    match = _TASK_NUMBER.search(base)
    if match:
        base = base[:match.start()]
    return next((az for az in AZS if base.endswith(f"-{az}")), None)


def target_figures(row: dict[str, str]) -> TargetFigures:
    """Return one server line's counters; a fail-open twin counts traffic only, not health."""
    def num(key: str) -> int:
        return int(row.get(key) or 0)

    health = health_of(row.get("status", ""))
    checked = not row["svname"].endswith(FAIL_OPEN_SUFFIX)
    return TargetFigures(
        http_2xx=num("hrsp_2xx"), http_3xx=num("hrsp_3xx"), http_4xx=num("hrsp_4xx"),
        http_5xx=num("hrsp_5xx"), connection_errors=num("econ"),
        response_errors=num("eresp"), retries=num("wretr"), redispatches=num("wredis"),
        healthy=int(checked and health == "healthy"),
        unhealthy=int(checked and health == "unhealthy"), in_flight=num("scur"))


def by_az(rows: list[dict[str, str]], backend: str) -> dict[str, TargetFigures]:
    """Sum *backend*'s server lines per AZ (fail-open twins included in their AZ)."""
    out = {az: TargetFigures() for az in AZS}
    for row in rows:
        if row.get("pxname") != backend or row.get("svname") in ("FRONTEND", "BACKEND"):
            continue
        az = az_of(row["svname"])
        if az is not None:
            out[az].add(target_figures(row))
    return out
