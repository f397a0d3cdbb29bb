"""Application Auto Scaling, locally: each period, sample the tasks, then evaluate the policies.

Every period (a CloudWatch minute, time-scaled) this publishes each task's CPU and each
service's task counts, reads every policy's metric back through a MetricReader (CloudWatch
or the stand-in's own store), decides as target tracking does (scaling.py), sets the
scheduler's desired count, logs the decision with its reason and appends it to
<state_dir>/run/scaling.jsonl, where a scaling activity (a decision that changed the count)
carries its cause as Application Auto Scaling words it: the alarm that fired and the policy
(DescribeScalingActivities answers from this file: localaws/ecs/appscaling.py). Each period
it also reads the scalable targets RegisterScalableTarget keeps there: their bounds and
suspended state.

The time scale applies to every policy alike. CPU utilisation and a backlog per task are
rates and levels, the same over any period; a count summed over its period (requests per
target) is scaled back to a minute's count, so the target of 1,000 requests per target per
minute means the same request rate locally as on AWS.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localaws.alarms.expression import ExpressionError, evaluate
from localaws.ecs.appscaling import read_targets
from localaws.ecs.metrics import (
    CpuMeter,
    MemoryStore,
    MetricReader,
    Publisher,
    service_dimensions,
)
from localaws.ecs.model import (
    EcsService,
    MetricSpec,
    ScalingPolicy,
    cpu_metric,
    request_metric,
)
from localaws.ecs.scaling import IN_DATAPOINTS, LOOKBACK, Decision, ScalingState, decide
from localaws.ecs.scheduler import Scheduler
from localaws.elb.runtime import RuntimeApi, RuntimeApiError

AWS_PERIOD = 60.0
# The periods read for each policy: the longest alarm's evaluation range.
SLOTS = LOOKBACK * IN_DATAPOINTS
SUPPORTED = ("ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget", "Customized")


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
                 resolve: Callable[[Any], Any] = lambda value: value,
                 say: Callable[[str], None] = print) -> None:
        self.scheduler, self.state_dir, self.scale = scheduler, state_dir, time_scale
        # GetMetricData takes whole seconds, and 1 s is CloudWatch's finest period.
        self.period = float(max(1, round(AWS_PERIOD * time_scale)))
        # What a count over one local period is multiplied by to read as a minute's count.
        self.per_minute = AWS_PERIOD / self.period
        # Resolves what a customized metric names of the deployed stack (a queue's name).
        self.resolve = resolve
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
        start = end - SLOTS * self.period
        targets = {t["ResourceId"]: t for t in read_targets(self.state_dir)}
        for name, run in list(self.scheduler.services.items()):
            policies = [p for p in run.model.policies if p.metric_type in SUPPORTED]
            if not policies:
                continue
            state = self.states.setdefault(name, ScalingState(
                desired=run.desired, min_capacity=run.model.min_capacity,
                max_capacity=run.model.max_capacity))
            state.desired = run.desired
            target = targets.get(f"service/{run.model.cluster}/{name}")
            if target is not None:
                bounds = int(target["MinCapacity"]), int(target["MaxCapacity"])
                if bounds != (state.min_capacity, state.max_capacity):
                    state.min_capacity, state.max_capacity = bounds
                    state.bounds_changed = True
                suspended = target.get("SuspendedState") or {}
                state.out_suspended = bool(suspended.get("DynamicScalingOutSuspended"))
                state.in_suspended = bool(suspended.get("DynamicScalingInSuspended"))
            try:
                series = self._series(run.model, policies, start, end)
            except (ValueError, KeyError, OSError) as exc:  # one service's, not every one's
                self.say(f"{name}: scaling skipped this period: {type(exc).__name__}: {exc}")
                continue
            decision = decide(state, policies, series, now=now, time_scale=self.scale)
            if decision.action != "none":
                self.scheduler.set_desired(name, decision.desired, low=state.min_capacity,
                                           high=state.max_capacity)
                self.publisher.publish("ECS/ContainerInsights",
                                       {"DesiredTaskCount": decision.desired},
                                       service_dimensions(run.model), unit="Count")
                self.say(f"{name}: scale {decision.action} {decision.previous} -> "
                         f"{decision.desired}: {decision.reason}")
            self._append(run.model, now, decision, series, window_end=end)

    def _series(self, model: EcsService, policies: list[ScalingPolicy], start: float,
                end: float) -> dict[str, list[float | None]]:
        """Return each policy's metric, one value per period from *start* (None: no data):
        the predefined ones in one GetMetricData call, each customized one in its own."""
        begin, finish = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        predefined = [p for p in policies if p.metric_type != "Customized"]
        queries = [_query(f"q{i}", policy_metric(model, p.metric_type, self.target_groups),
                          self.period) for i, p in enumerate(predefined)]
        answer = self.reader.get_metric_data(queries, begin, finish) if queries else {}
        out = {}
        for policy, query in zip(predefined, queries, strict=True):
            points = answer.get(query["Id"], [])
            if policy.per_period_count:
                points = [(at, value * self.per_minute) for at, value in points]
            out[policy.name] = _aligned(points, start, self.period)
        for policy in policies:
            if policy.metric_type == "Customized":
                out[policy.name] = _aligned(self._customized(policy, begin, finish), start,
                                            self.period)
        return out

    def _customized(self, policy: ScalingPolicy, start: datetime, end: datetime
                    ) -> list[tuple[datetime, float]]:
        """Return a customized metric's returned series: its metrics read (every one asked
        for, as the readers return only those), its metric math evaluated here."""
        queries = [self.resolve(q) for q in policy.queries]
        stats = [{**q, "ReturnData": True,
                  "MetricStat": {**q["MetricStat"], "Period": int(self.period)}}
                 for q in queries if "MetricStat" in q]
        answer = self.reader.get_metric_data(stats, start, end)
        values: dict[str, dict[datetime, float]] = {q["Id"]: dict(answer.get(q["Id"], []))
                                                    for q in stats}
        grid = sorted({at for series in values.values() for at in series})
        for query in queries:
            if "Expression" in query:
                try:
                    result = evaluate(query["Expression"], values, grid)
                except (ExpressionError, ZeroDivisionError) as exc:
                    raise ValueError(f"{policy.name}: {query['Expression']}: {exc}") from exc
                values[query["Id"]] = (result if isinstance(result, dict)
                                       else dict.fromkeys(grid, result))
        # The template's one returned series (model.py refuses a policy with another count).
        (returned,) = [q["Id"] for q in queries if q.get("ReturnData", True)]
        return sorted(values.get(returned, {}).items())

    def _append(self, model: EcsService, now: float, decision: Decision,
                series: dict[str, list[float | None]], *, window_end: float) -> None:
        path = scaling_log_path(self.state_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"at": now, "service": model.name, "cluster": model.cluster,
                 **asdict(decision), "datapoints": {k: v[-3:] for k, v in series.items()}}
        if decision.action != "none":
            entry["activity"] = activity(model, decision, now, window_end=window_end,
                                         period=self.period)
        with path.open("a") as log:
            log.write(json.dumps(entry) + "\n")


def alarm_name(model: EcsService, policy: str, action: str) -> str:
    """Return the name Application Auto Scaling gives a target-tracking policy's alarm."""
    side = "AlarmHigh" if action == "out" else "AlarmLow"
    return (f"TargetTracking-service/{model.cluster}/{model.name}-{side}-"
            f"{uuid.uuid5(uuid.NAMESPACE_URL, f'{model.cluster}/{model.name}/{policy}')}")


def activity(model: EcsService, decision: Decision, now: float, *, window_end: float = 0.0,
             period: float = AWS_PERIOD) -> dict[str, Any]:
    """Return the scaling activity of *decision*, in DescribeScalingActivities' words, with
    the datapoints that put the alarm in ALARM (and when the periods they judged ended)."""
    deciding = [v for v in decision.votes if v.action == decision.action]
    vote = max(deciding, key=lambda v: v.capacity) if deciding else None
    base = {"ActivityId": str(uuid.uuid4()), "ServiceNamespace": "ecs",
            "ResourceId": f"service/{model.cluster}/{model.name}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "Description": f"Setting desired count to {decision.desired}.",
            "StartTime": now, "EndTime": now, "StatusCode": "Successful",
            "StatusMessage": f"Successfully set desired count to {decision.desired}. "
                             f"Change successfully fulfilled by ecs."}
    if vote is None:  # new bounds (RegisterScalableTarget), not an alarm
        return {**base, "Cause": f"scalable target bounds set to {decision.reason.split()[-1]}",
                "Details": ""}
    alarm = alarm_name(model, vote.policy, decision.action)
    return {**base,
            "Cause": f"monitor alarm {alarm} in state ALARM triggered policy {vote.policy}",
            # AWS leaves Details empty here; the alarm's datapoints, and when the periods
            # they are of ended, are kept for reports.
            "Details": json.dumps({"alarm": alarm, "policy": vote.policy,
                                   "datapoints": list(vote.datapoints),
                                   "comparison": ">" if decision.action == "out" else "<",
                                   "threshold": vote.threshold, "window_end": window_end,
                                   "period": period})}


def _query(query_id: str, metric: MetricSpec, period: float) -> dict[str, Any]:
    return {"Id": query_id, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": metric.namespace, "MetricName": metric.name,
                   "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions]},
        "Period": int(period), "Stat": metric.stat}}


def _aligned(points: list[tuple[datetime, float]], start: float, period: float
             ) -> list[float | None]:
    """Return one value per period from *start* (None where there is no datapoint)."""
    slots: list[float | None] = [None] * SLOTS
    for stamp, value in points:
        index = int((stamp.timestamp() - start + 1e-6) // period)
        if 0 <= index < SLOTS:
            slots[index] = value
    return slots
