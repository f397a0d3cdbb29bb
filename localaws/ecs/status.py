"""What `itinera status` shows: services, AZs, tasks and their health, scaling decisions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localaws import elb
from localaws.ecs.appscaling import read_targets
from localaws.ecs.autoscaler import scaling_log_path
from localaws.ecs.azs import read_az_state
from localaws.record import read_record
from localaws.scheduler.service import local_when, read_state

LAST_DECISIONS = 5


def status(state_dir: Path) -> dict[str, Any]:
    """Return the running stack's ECS services, tasks, AZs, decisions and LB health."""
    record = read_record(state_dir)
    balancers = elb.status(state_dir)
    health = {t["server"]: t["health"] for b in balancers.values() for t in b.get("targets", [])}
    now = time.time()
    tasks = {name: {**task.model_dump(exclude_none=True),
                    "age_seconds": round(now - (task.started_at or now), 1),
                    "health": health.get(name, "no LB" if task.service_of(name) not in balancers
                                         else "unregistered")}
             for name, task in record.tasks.items()}
    services = {name: s.model_dump() for name, s in record.services.items()}
    # The bounds as registered now (RegisterScalableTarget), and whether scaling is suspended.
    for target in read_targets(state_dir):
        service = services.get(target["ResourceId"].rsplit("/", 1)[-1])
        if service is not None:
            service["min"], service["max"] = target["MinCapacity"], target["MaxCapacity"]
            service["suspended"] = [side for side, key in (
                ("out", "DynamicScalingOutSuspended"), ("in", "DynamicScalingInSuspended"))
                if (target.get("SuspendedState") or {}).get(key)]
    schedules = [{**p, "locally": local_when(p, now)}
                 for p in read_state(state_dir).get("schedules", [])]
    return {"services": services, "azs": read_az_state(state_dir),
            "tasks": tasks, "scaling": last_decisions(state_dir), "schedules": schedules,
            "load_balancers": {name: {"fail_open": b.get("fail_open"), "error": b.get("error"),
                                      "by_az": {az: {"healthy": f["healthy"],
                                                     "unhealthy": f["unhealthy"]}
                                                for az, f in b.get("by_az", {}).items()}}
                               for name, b in balancers.items()}}


def last_decisions(state_dir: Path, count: int = LAST_DECISIONS) -> list[dict[str, Any]]:
    """Return the last *count* decisions that changed a desired count."""
    try:
        lines = scaling_log_path(state_dir).read_text().splitlines()
    except OSError:
        return []
    changes = [json.loads(line) for line in lines if '"action": "none"' not in line]
    return [{k: d[k] for k in ("at", "service", "action", "previous", "desired", "reason")}
            for d in changes[-count:]]


def table(report: dict[str, Any]) -> str:
    """Return *report* as plain-text tables."""
    return "\n".join(_lines(report))


def _lines(report: dict[str, Any]) -> Iterator[str]:
    yield "AZs: " + ", ".join(f"{az} {'available' if s['available'] else 'UNAVAILABLE'}"
                              for az, s in report["azs"].items())
    yield ""
    yield (f"{'service':<10} {'desired':>7} {'running':>7} {'pending':>7} {'min':>4} {'max':>4}"
           f"  scaling")
    for name, s in sorted(report["services"].items()):
        paused = s.get("suspended") or []
        yield (f"{name:<10} {s['desired']:>7} {s['running']:>7} {s.get('pending', 0):>7} "
               f"{s['min']:>4} {s['max']:>4}  "
               + (f"{' and '.join(paused)} suspended" if paused else "active"))
    yield ""
    yield f"{'task':<20} {'az':<5} {'pid':>7} {'port':>6} {'state':<15} {'health':<12} {'age':>8}"
    for name, t in sorted(report["tasks"].items()):
        yield (f"{name:<20} {t['az']:<5} {t['pid']:>7} {t['port']:>6} {t['state']:<15} "
               f"{t['health']:<12} {t['age_seconds']:>7.0f}s")
    yield ""
    yield "load balancers (healthy/unhealthy targets per AZ):"
    for name, b in sorted(report["load_balancers"].items()):
        if b.get("error"):
            yield f"  {name}: {b['error']}"
            continue
        per_az = ", ".join(f"{az} {f['healthy']}/{f['unhealthy']}" for az, f in b["by_az"].items())
        yield f"  {name}: {per_az}" + ("  FAIL-OPEN" if b["fail_open"] else "")
    yield ""
    yield "schedules (EventBridge Scheduler; locally on the scaled clock):"
    for p in report.get("schedules") or [{"none": True}]:
        if "none" in p:
            yield "  (none)"
            continue
        when = (f"next {p['next_aws']} (locally {p['locally']})" if p["state"] == "ENABLED"
                else f"{p['state']}; would next run {p['next_aws']}")
        yield f"  {p['name']}: {p['expression']}: {when}"
        if p.get("last_result"):
            yield f"    last: {p['last_result']}"
    yield ""
    yield "last scaling decisions:"
    for d in report["scaling"] or [{"none": True}]:
        if "none" in d:
            yield "  (none yet)"
            continue
        stamp = time.strftime("%H:%M:%S", time.localtime(d["at"]))
        yield (f"  {stamp} {d['service']}: {d['action']} {d['previous']} -> {d['desired']}: "
               f"{d['reason']}")
