"""One ECS task locally: a service process in an AZ, on a port, maybe behind a target group."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from itinera.localstack.processes import Child

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
