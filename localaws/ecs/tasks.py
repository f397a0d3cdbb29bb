"""One ECS task locally: a service process in an AZ, on a port, maybe behind a target group."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal

from localaws.ecs.model import EcsService
from localaws.ecs.placement import Placed
from localaws.elb.haproxy import Balancer
from localaws.elb.runtime import RuntimeApi
from localaws.processes import Child

# ECS's task lifecycle, shortened: PROVISIONING until /ready answers and the task is
# registered, RUNNING while it serves, DEPROVISIONING while it drains and stops.
TaskState = Literal["PROVISIONING", "RUNNING", "DEPROVISIONING", "STOPPED"]


@dataclass(kw_only=True)
class Task:
    """One task of a service."""

    service: str
    az: str
    number: int
    port: int
    child: Child
    state: TaskState = "PROVISIONING"
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    registered: float | None = None
    stopped_reason: str = ""
    # Stopped for a fault (health checks, AZ loss), not by scaling: the service replaces it.
    unplanned: bool = False

    @property
    def name(self) -> str:
        """Return the task's name, also its HAProxy server's: `gateway-az-a-3`."""
        return f"{self.service}-{self.az}-{self.number}"

    @property
    def active(self) -> bool:
        """Return whether the task counts toward the service's running count."""
        return self.state in ("PROVISIONING", "RUNNING")

    def record(self) -> dict[str, Any]:
        """Return what `stack.json` and `itinera status` show of the task."""
        return {"service": self.service, "az": self.az, "port": self.port,
                "pid": self.child.process.pid, "state": self.state,
                "started_at": self.started_at, "log": str(self.child.log_path),
                **({"stopped_reason": self.stopped_reason} if self.stopped_reason else {})}


@dataclass(kw_only=True)
class ServiceRun:
    """A service the scheduler keeps running: its model, command, tasks and load balancer."""

    model: EcsService
    args: list[str]
    env: dict[str, str]
    desired: int
    # Per-AZ additions to env (the AZ's fault proxies, when the stack runs them).
    az_env: dict[str, dict[str, str]] = field(default_factory=dict)
    balancer: Balancer | None = None
    api: RuntimeApi | None = None
    tasks: list[Task] = field(default_factory=list)
    numbers: int = 0
    # Tasks that stopped on their own and are not replaced yet.
    replacements_due: int = 0

    def active(self) -> list[Task]:
        """Return the tasks that count: starting or running."""
        return [t for t in self.tasks if t.active]


def placed(tasks: list[Task]) -> list[Placed]:
    """Return *tasks* as placement sees them."""
    return [Placed(name=t.name, az=t.az, running=t.state == "RUNNING", started=t.started)
            for t in tasks]


def ready(url: str) -> bool:
    """Return whether *url* answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - local URL
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
