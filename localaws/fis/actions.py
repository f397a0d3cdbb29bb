"""Each FIS action as a local fault: what it does when it starts and what undoes it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from localaws.fis.plan import PlannedAction
from localaws.fis.targets import Target
from localaws.lambda_faults import DELAY, ERROR, Fault


class Effects(Protocol):
    """The local stack's levers the executor pulls (a fake in unit tests)."""

    def stop_tasks(self, target: Target) -> list[str]:
        """Stop the target's running tasks now; return their names."""

    def set_az(self, az: str, available: bool) -> None:
        """Mark *az* available or not to the scheduler."""

    async def proxy_fault(self, fault: dict[str, Any], *, dependency: str | None,
                          az: str | None) -> list[str]:
        """Apply *fault* to the matching fault proxies; return their names."""

    async def clear_proxies(self) -> None:
        """Lift every proxy fault."""

    async def put_lambda(self, function: str, body: bytes) -> None:
        """Write *function*'s FIS settings object."""

    async def delete_lambda(self, function: str) -> None:
        """Delete *function*'s FIS settings object."""


@dataclass(frozen=True)
class Applied:
    """What an action did, for the timeline: a one-line description."""

    detail: str


def _dependencies(action: PlannedAction, local: dict[str, Any]) -> list[str | None]:
    deps = local.get("dependencies")
    return list(deps) if deps else [None]


async def apply(action: PlannedAction, targets: dict[str, Target], effects: Effects, *,
                local: dict[str, Any]) -> Applied:
    """Start *action* on the local stack; return what it did."""
    kind, p = action.action_id, action.parameters
    target = next((targets[t] for t in action.targets.values()), None)
    until = time.time() + action.local_duration_s
    if kind == "aws:fis:wait":
        return Applied("wait")
    assert target is not None, f"{action.name}: {kind} needs a target"
    if kind == "aws:ecs:stop-task":
        stopped = effects.stop_tasks(target)
        if not stopped:
            raise RuntimeError(f"{action.name}: no running task matches {target.name}")
        return Applied(f"stopped {', '.join(stopped)}")
    if kind == "aws:network:disrupt-connectivity":
        names = []
        for az in target.azs:
            effects.set_az(az, False)
            names += await effects.proxy_fault({"mode": "cut"}, dependency=None, az=az)
        return Applied(f"{', '.join(target.azs)} unavailable; cut {', '.join(names)}")
    if kind in ("aws:ecs:task-network-latency", "aws:ecs:task-network-packet-loss"):
        if kind.endswith("latency"):
            fault: dict[str, Any] = {"mode": "delay", "delay_ms": int(p["delayMilliseconds"]),
                                     "jitter_ms": int(p.get("jitterMilliseconds", 0))}
        else:
            fault = {"mode": "drop", "probability": float(p["lossPercent"]) / 100}
        names = []
        for az in target.azs:
            for dependency in _dependencies(action, local):
                names += await effects.proxy_fault(fault, dependency=dependency, az=az)
        return Applied(f"{fault['mode']} on {', '.join(names)}")
    if kind == "aws:rds:failover-db-cluster":
        names = await effects.proxy_fault({"mode": "cut"}, dependency="mariadb", az=None)
        return Applied(f"failover: cut {', '.join(names)} for {action.local_duration_s:g} s")
    if kind == "aws:elasticache:replicationgroup-interrupt-az-power":
        names = []
        for az in target.azs:
            names += await effects.proxy_fault({"mode": "cut"}, dependency="redis", az=az)
        return Applied(f"cut {', '.join(names)}")
    if kind in ("aws:lambda:invocation-error", "aws:lambda:invocation-add-delay"):
        from localaws.lambda_faults import settings_object

        share = float(p.get("invocationPercentage", 100))
        if kind.endswith("error"):
            one = Fault(action=ERROR, percentage=share, until=until,
                        prevent_execution=str(p.get("preventExecution", "true")) == "true")
        else:
            one = Fault(action=DELAY, percentage=share, until=until,
                        delay_ms=int(p["startupDelayMilliseconds"]))
        for function in target.functions:
            await effects.put_lambda(function, settings_object([one]))
        return Applied(f"{one.action} {share:g}% on {', '.join(target.functions)}")
    raise ValueError(f"{action.name}: no local mapping for {kind}")


async def undo(action: PlannedAction, targets: dict[str, Target], effects: Effects) -> str:
    """Undo what *action* did at its end; return what was undone ("" when nothing)."""
    kind = action.action_id
    target = next((targets[t] for t in action.targets.values()), None)
    if kind == "aws:network:disrupt-connectivity" and target is not None:
        for az in target.azs:
            effects.set_az(az, True)
            await effects.proxy_fault({"mode": "pass"}, dependency=None, az=az)
        return f"{', '.join(target.azs)} available again"
    if kind in ("aws:ecs:task-network-latency", "aws:ecs:task-network-packet-loss",
                "aws:elasticache:replicationgroup-interrupt-az-power") and target is not None:
        dependency = "redis" if "elasticache" in kind else None
        for az in target.azs:
            await effects.proxy_fault({"mode": "pass"}, dependency=dependency, az=az)
        return f"proxies of {', '.join(target.azs)} pass"
    if kind == "aws:rds:failover-db-cluster":
        await effects.proxy_fault({"mode": "pass"}, dependency="mariadb", az=None)
        return "MariaDB served again"
    if kind.startswith("aws:lambda:") and target is not None:
        for function in target.functions:
            await effects.delete_lambda(function)
        return f"settings of {', '.join(target.functions)} deleted"
    return ""
