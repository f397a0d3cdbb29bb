"""Application Auto Scaling, locally: each period, sample the tasks, then evaluate the policies.

Every period (a CloudWatch minute, time-scaled) this publishes each task's CPU and each
service's task counts, reads every policy's metric back through a MetricReader (CloudWatch
or the stand-in's own store), decides as target tracking does (scaling.py), sets the
scheduler's desired count, logs the decision with its reason and appends it to
<state_dir>/run/scaling.jsonl.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localaws.ecs.metrics import (
    CpuMeter,
    MemoryStore,
    MetricReader,
    Publisher,
    service_dimensions,
)
from localaws.ecs.model import EcsService, MetricSpec, cpu_metric, request_metric
from localaws.ecs.scaling import IN_DATAPOINTS, ScalingState, decide
from localaws.ecs.scheduler import Scheduler
from localaws.elb.runtime import RuntimeApi, RuntimeApiError

AWS_PERIOD = 60.0
SUPPORTED = ("ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget")


def policy_metric(service: EcsService, metric_type: str, target_groups: dict[str, str]
                  ) -> MetricSpec:
    """Return the metric a predefined policy type tracks for *service*.

    *target_groups* maps a target group's logical id to its TargetGroupFullName, the
    TargetGroup dimension the load balancer metrics carry.
    """
    if metric_type == "ECSServiceAverageCPUUtilization":
        return cpu_metric(service)
    assert service.target_group is not None
    return request_metric(target_groups[service.target_group.logical_id])


def scaling_log_path(state_dir: Path) -> Path:
    """Return the file every scaling decision is appended to."""
    return state_dir / "run" / "scaling.jsonl"


class Autoscaler:
    """Publish task metrics and run target tracking for every service, each period."""

    def __init__(self, scheduler: Scheduler, *, state_dir: Path, time_scale: float,
                 target_groups: dict[str, str], reader: MetricReader | None = None,
                 say: Callable[[str], None] = print) -> None:
        self.scheduler, self.state_dir, self.scale = scheduler, state_dir, time_scale
        # GetMetricData takes whole seconds, and 1 s is CloudWatch's finest period.
        self.period = float(max(1, round(AWS_PERIOD * time_scale)))
        self.target_groups = target_groups
        self.store = MemoryStore()
        self.publisher = Publisher(state_dir / "logs" / "ecs.log", self.store)
        # CloudWatch (moto, fed by the metrics agent) when given; else the own store, which
        # also measures requests per target itself.
        self.reader: MetricReader = reader or self.store
        self.own_requests = reader is None
        # The agent reads logs every few hundred ms: evaluate once the period's lines are in.
        self.settle = min(1.0, self.period / 3) if reader is not None else 0.0
        self.say = say
        self.meter = CpuMeter()
        self.states: dict[str, ScalingState] = {}
        self.requests_seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run every period in a thread until stop()."""
        self._thread = threading.Thread(target=self._loop, name="ecs-autoscaler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        # Period boundaries on the wall clock, as CloudWatch aligns its periods.
        while not self._stop.wait(self.period - time.time() % self.period):
            try:
                ended = time.time()
                self.publish(ended)
                if self._stop.wait(self.settle):
                    return
                self.evaluate(ended)
            except Exception as exc:  # one bad period must not stop scaling for good
                self.say(f"ecs autoscaler: {type(exc).__name__}: {exc}")

    def publish(self, now: float) -> None:
        """Publish each task's CPU and each service's counts for the period ending *now*."""
        stamp = now - self.period / 2  # inside the period just ended
        for name, service in self.scheduler.snapshot().items():
            run = self.scheduler.services[name]
            dims = service_dimensions(run.model)
            for task in service["tasks"].values():
                if task["state"] != "RUNNING":
                    continue
                cpu = self.meter.sample(task["pid"], run.model.vcpu)
                if cpu is not None:
                    self.publisher.publish("AWS/ECS", {"CPUUtilization": round(cpu, 2)}, dims,
                                           unit="Percent", timestamp=stamp)
            self.publisher.publish("ECS/ContainerInsights",
                                   {"RunningTaskCount": service["running"],
                                    "DesiredTaskCount": service["desired"]}, dims,
                                   unit="Count", timestamp=stamp)
            if self.own_requests:
                self._requests_per_target(run.model, run.api, run.balancer,
                                          service["running"], stamp)

    def _requests_per_target(self, model: EcsService, api: RuntimeApi | None, balancer: Any,
                             running: int, stamp: float) -> None:
        """Record RequestCountPerTarget in the own store, for when no metrics agent runs."""
        if api is None or balancer is None:
            return
        try:
            rows = api.stat()
        except (OSError, RuntimeApiError):
            return
        total = next((int(r.get("req_tot") or 0) for r in rows
                      if r["pxname"] == balancer.name and r["svname"] == "BACKEND"), None)
        if total is None:
            return
        seen = self.requests_seen.get(model.name)
        self.requests_seen[model.name] = total
        if seen is not None:
            assert model.target_group is not None
            self.store.put("AWS/ApplicationELB", "RequestCountPerTarget",
                           {"TargetGroup": self.target_groups[model.target_group.logical_id]},
                           max(0, total - seen) / max(1, running), stamp)

    def evaluate(self, now: float) -> None:
        """Run every service's policies on the last datapoints and apply the decisions."""
        end = now - now % self.period
        if not self.own_requests:
            # Through CloudWatch the period just ended may still be on its way (the agent
            # samples a little after each boundary): judge the periods before it, as
            # CloudWatch alarms see metrics that arrive a period late.
            end -= self.period
        start = end - IN_DATAPOINTS * self.period
        for name, run in list(self.scheduler.services.items()):
            policies = [p for p in run.model.policies if p.metric_type in SUPPORTED]
            if not policies:
                continue
            state = self.states.setdefault(name, ScalingState(
                desired=run.desired, min_capacity=run.model.min_capacity,
                max_capacity=run.model.max_capacity))
            state.desired = run.desired
            queries = [_query(f"q{i}", policy_metric(run.model, p.metric_type,
                                                     self.target_groups), self.period)
                       for i, p in enumerate(policies)]
            answer = self.reader.get_metric_data(queries, datetime.fromtimestamp(start, UTC),
                                                 datetime.fromtimestamp(end, UTC))
            series = {p.name: _aligned(answer.get(q["Id"], []), start, self.period)
                      for p, q in zip(policies, queries, strict=True)}
            decision = decide(state, policies, series, now=now, time_scale=self.scale)
            if decision.action != "none":
                self.scheduler.set_desired(name, decision.desired)
                self.publisher.publish("ECS/ContainerInsights",
                                       {"DesiredTaskCount": decision.desired},
                                       service_dimensions(run.model), unit="Count")
                self.say(f"{name}: scale {decision.action} {decision.previous} -> "
                         f"{decision.desired}: {decision.reason}")
            self._append(name, now, decision, series)

    def _append(self, service: str, now: float, decision: Any,
                series: dict[str, list[float | None]]) -> None:
        path = scaling_log_path(self.state_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"at": now, "service": service, **asdict(decision),
                 "datapoints": {k: v[-3:] for k, v in series.items()}}
        with path.open("a") as log:
            log.write(json.dumps(entry) + "\n")


def _query(query_id: str, metric: MetricSpec, period: float) -> dict[str, Any]:
    return {"Id": query_id, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": metric.namespace, "MetricName": metric.name,
                   "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions]},
        "Period": int(period), "Stat": metric.stat}}


def _aligned(points: list[tuple[datetime, float]], start: float, period: float
             ) -> list[float | None]:
    """Return one value per period from *start* (None where there is no datapoint)."""
    slots: list[float | None] = [None] * IN_DATAPOINTS
    for stamp, value in points:
        index = int((stamp.timestamp() - start + 1e-6) // period)
        if 0 <= index < IN_DATAPOINTS:
            slots[index] = value
    return slots
