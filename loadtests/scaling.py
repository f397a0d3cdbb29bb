"""What the services' autoscaling did during a run, read from AWS's own records, and judged.

The same calls on AWS and on the local stack: CloudWatch's Container Insights counts
(ECS/ContainerInsights DesiredTaskCount and RunningTaskCount per service), the load
balancers' healthy targets per AZ (AWS/ApplicationELB HealthyHostCount per TargetGroup and
AvailabilityZone), and Application Auto Scaling's activities (DescribeScalingActivities) with
their cause. A target group belongs to the service whose name its own contains
(`itinera-dev-GatewayTargetGroup` locally), or the first five letters of it: CloudFormation
names a target group without a Name from its stack and logical id, cut to five letters each
(`itine-Gatew-1A2B3C4D5E6F`).

The thresholds (a scenario's `scaling:` block in thresholds.yaml) are in AWS seconds and
periods, so one file judges a run on AWS and a time-scaled local run alike.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loadtests.checks import Check, check
from loadtests.stats import AGGREGATED, Recorded
from localaws.cloudwatch.reader import CloudWatchReader

AWS_PERIOD_S = 60
# Before the first activity and after the last one, the failures counted as "while tasks
# joined or left" (the tasks' start, registration and draining), in periods.
SCALING_WINDOW_PERIODS = 2
SCALING_KEYS = {"services", "min_capacity", "min_peak_tasks", "scale_out_within_periods",
                "max_failures_while_scaling", "back_to_min_within_s"}

Points = list[tuple[float, float]]  # (unix seconds, value)


@dataclass(frozen=True, kw_only=True)
class ScalingThresholds:
    """What the services' scaling must show in a run (times in AWS seconds and periods)."""

    services: tuple[str, ...]
    # The scalable targets' MinCapacity (the template's), where a run starts and ends.
    min_capacity: int | None = None
    min_peak_tasks: int | None = None
    scale_out_within_periods: float | None = None
    max_failures_while_scaling: int | None = None
    back_to_min_within_s: float | None = None


def parse_thresholds(where: str, raw: Any) -> ScalingThresholds:
    """Return a `scaling:` block's thresholds; unknown keys are errors, not no-ops."""
    if not isinstance(raw, dict) or not raw.get("services"):
        raise ValueError(f"{where}: give the services to judge, e.g. services: [gateway]")
    unknown = set(raw) - SCALING_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown threshold(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(SCALING_KEYS))}")
    if "back_to_min_within_s" in raw and "min_capacity" not in raw:
        raise ValueError(f"{where}: back_to_min_within_s needs min_capacity")
    return ScalingThresholds(
        services=tuple(str(s) for s in raw["services"]),
        min_capacity=raw.get("min_capacity"),
        min_peak_tasks=raw.get("min_peak_tasks"),
        scale_out_within_periods=raw.get("scale_out_within_periods"),
        max_failures_while_scaling=raw.get("max_failures_while_scaling"),
        back_to_min_within_s=raw.get("back_to_min_within_s"))


@dataclass(kw_only=True)
class ServiceScaling:
    """One service over the run: its task counts, healthy targets per AZ, activities."""

    service: str
    desired: Points = field(default_factory=list)
    running: Points = field(default_factory=list)
    healthy: dict[str, Points] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the record for scaling.json."""
        return {"service": self.service, "desired": self.desired, "running": self.running,
                "healthy": self.healthy, "activities": self.activities}

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ServiceScaling:
        """Return the record *raw* (from scaling.json)."""
        return cls(service=raw["service"], desired=[tuple(p) for p in raw["desired"]],
                   running=[tuple(p) for p in raw["running"]],
                   healthy={az: [tuple(p) for p in points]
                            for az, points in raw["healthy"].items()},
                   activities=raw["activities"])  # type: ignore[arg-type]


def period_s(time_scale: float) -> int:
    """Return the target's CloudWatch period: a minute on AWS, scaled on the local stack."""
    return max(1, round(AWS_PERIOD_S * time_scale))


def _metrics(cloudwatch: Any, namespace: str, name: str) -> list[dict[str, str]]:
    seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace,
                                                                  MetricName=name):
        for metric in page["Metrics"]:
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            seen.setdefault(tuple(sorted(dims.items())), dims)
    return list(seen.values())


def _stat(query_id: str, namespace: str, name: str, dims: dict[str, str], period: int,
          stat: str) -> dict[str, Any]:
    return {"Id": query_id, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": name,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())]},
        "Period": period, "Stat": stat}}


def observe(cloudwatch: Any, autoscaling: Any, *, cluster: str, start: datetime,
            end: datetime, period: int) -> dict[str, ServiceScaling]:
    """Return every service of *cluster* with its counts, healthy targets and activities
    between *start* and *end*."""
    services: dict[str, ServiceScaling] = {}
    queries: list[dict[str, Any]] = []
    owner: dict[str, tuple[str, str, str]] = {}  # query id -> (service, what, az)
    for dims in _metrics(cloudwatch, "ECS/ContainerInsights", "DesiredTaskCount"):
        if dims.get("ClusterName") != cluster or set(dims) != {"ClusterName", "ServiceName"}:
            continue
        name = dims["ServiceName"]
        services[name] = ServiceScaling(service=name)
        for what in ("desired", "running"):
            metric = "DesiredTaskCount" if what == "desired" else "RunningTaskCount"
            owner[f"q{len(queries)}"] = (name, what, "")
            queries.append(_stat(f"q{len(queries)}", "ECS/ContainerInsights", metric, dims,
                                 period, "Maximum" if what == "desired" else "Average"))
    for dims in _metrics(cloudwatch, "AWS/ApplicationELB", "HealthyHostCount"):
        az, group = dims.get("AvailabilityZone"), dims.get("TargetGroup", "").lower()
        service = owner_of(group, services)
        if az is None or service is None:
            continue
        owner[f"q{len(queries)}"] = (service, "healthy", az)
        queries.append(_stat(f"q{len(queries)}", "AWS/ApplicationELB", "HealthyHostCount",
                             dims, period, "Average"))
    answers = CloudWatchReader(cloudwatch).get_metric_data(queries, start, end) if queries \
        else {}
    for query_id, found in answers.items():
        name, what, az = owner[query_id]
        points = [(_unix(t), float(v)) for t, v in found]
        record = services[name]
        if what == "healthy":
            record.healthy.setdefault(az, []).extend(points)
        else:
            getattr(record, what).extend(points)
    for name, record in services.items():
        record.activities = _activities(autoscaling, f"service/{cluster}/{name}", start, end)
    return services


def owner_of(group: str, services: Any) -> str | None:
    """Return the service whose target group *group* (the TargetGroup dimension) is."""
    name = group.lower().split("/")[1] if "/" in group else group.lower()
    return (next((s for s in services if s.lower() in name), None)
            or next((s for s in services if f"-{s.lower()[:5]}-" in f"-{name}-"), None))


def _unix(at: Any) -> float:
    if isinstance(at, datetime):
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    return float(at)


def _activities(autoscaling: Any, resource: str, start: datetime, end: datetime
                ) -> list[dict[str, Any]]:
    """Return the resource's activities that started in [start, end], oldest first."""
    out = []
    for page in autoscaling.get_paginator("describe_scaling_activities").paginate(
            ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount"):
        for activity in page["ScalingActivities"]:
            at = _unix(activity["StartTime"])
            if start.timestamp() <= at <= end.timestamp():
                out.append({"at": at, "description": activity.get("Description", ""),
                            "cause": activity.get("Cause", ""),
                            "status": activity.get("StatusCode", ""),
                            "details": _details(activity.get("Details"))})
    return sorted(out, key=lambda a: a["at"])


def _details(raw: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {"text": str(raw)}
    return parsed if isinstance(parsed, dict) else {"text": str(raw)}


def desired_of(activity: dict[str, Any]) -> int | None:
    """Return the count an activity set ("Setting desired count to 4.")."""
    words = activity["description"].rstrip(".").split()
    return int(words[-1]) if words and words[-1].isdigit() else None


def _first_at_or_after(points: Points, after: float, wanted: Any) -> float | None:
    return next((t for t, v in points if t >= after and wanted(v)), None)


def judge(thresholds: ScalingThresholds, services: dict[str, ServiceScaling], *,
          recorded: Recorded, falls_at: float | None, time_scale: float) -> list[Check]:
    """Return one check per threshold and service judged."""
    period = period_s(time_scale)
    checks = []
    for name in thresholds.services:
        record = services.get(name, ServiceScaling(service=name))
        outs = scale_outs(record)
        if thresholds.min_peak_tasks is not None:
            peak = max((v for _, v in record.running), default=None)
            checks.append(check(f"{name}: peak running tasks", ">=",
                                thresholds.min_peak_tasks, peak))
        if thresholds.scale_out_within_periods is not None:
            checks.append(check(f"{name}: periods from crossing the target to tasks added",
                                "<=", thresholds.scale_out_within_periods,
                                _scale_out_periods(record, outs, period)))
        if thresholds.min_capacity is not None:
            start = record.desired[0][1] if record.desired else None
            checks.append(check(f"{name}: desired tasks when the load started (at rest)",
                                "<=", thresholds.min_capacity, start))
        if (thresholds.back_to_min_within_s is not None
                and thresholds.min_capacity is not None):
            limit = thresholds.back_to_min_within_s * time_scale
            checks.append(check(f"{name}: seconds from the load's fall to min capacity",
                                "<=", round(limit, 1),
                                _back_to_min(record, falls_at, thresholds.min_capacity),
                                " s"))
    if thresholds.max_failures_while_scaling is not None:
        every = [a for n in thresholds.services for a in services.get(
            n, ServiceScaling(service=n)).activities]
        observed = (_failures_between(recorded, min(a["at"] for a in every)
                                      - SCALING_WINDOW_PERIODS * period,
                                      max(a["at"] for a in every)
                                      + SCALING_WINDOW_PERIODS * period)
                    if every else None)
        checks.append(check("failed requests while tasks joined or left", "<=",
                            thresholds.max_failures_while_scaling, observed))
    return checks


def scale_outs(record: ServiceScaling) -> list[dict[str, Any]]:
    """Return the activities that added tasks: each set more than the one before it (the
    first, more than the count the run started with)."""
    out, previous = [], record.desired[0][1] if record.desired else math.inf
    for activity in record.activities:
        desired = desired_of(activity)
        if desired is None:
            continue
        if desired > previous:
            out.append(activity)
        previous = desired
    return out


def _scale_out_periods(record: ServiceScaling, outs: list[dict[str, Any]], period: int
                       ) -> float | None:
    """Periods from the first datapoint over the target (the first scale-out's alarm went to
    ALARM on its 3 datapoints) until as many tasks ran as that scale-out set."""
    if not outs:
        return None
    first = outs[0]
    details = first["details"]
    breached = len(details.get("datapoints") or []) or 3
    # The alarm judged periods that ended before it fired (locally its Details say when); on
    # AWS, where Details are empty, the periods are counted back from the activity.
    ended = float(details.get("window_end") or first["at"])
    crossed = ended - breached * float(details.get("period") or period)
    wanted = desired_of(first) or 0
    ran = _first_at_or_after(record.running, first["at"], lambda v: v >= wanted)
    return None if ran is None else round((ran - crossed) / period, 1)


def _back_to_min(record: ServiceScaling, falls_at: float | None, low: int) -> float | None:
    """Seconds from the load's fall until desired and running were *low* again; None when
    the service was not above it when the load fell (nothing to come back from)."""
    if falls_at is None:
        return None
    before = [v for t, v in record.desired if t <= falls_at]
    if not before or before[-1] <= low:
        return None
    back = _first_at_or_after(record.desired, falls_at, lambda v: v <= low)
    if back is None:
        return None
    ran = _first_at_or_after(record.running, back, lambda v: v <= low)
    return None if ran is None else round(ran - falls_at, 1)


def _failures_between(recorded: Recorded, start: float, end: float) -> float:
    samples = recorded.history.get(AGGREGATED, [])
    before = [s.failures for s in samples if s.t <= start]
    until = [s.failures for s in samples if s.t <= end]
    return float((until[-1] if until else 0) - (before[-1] if before else 0))


def summary(services: dict[str, ServiceScaling]) -> dict[str, Any]:
    """Return each service's peak and final counts and its activities, for summary.json."""
    return {name: {"peak_running": max((v for _, v in r.running), default=None),
                   "peak_desired": max((v for _, v in r.desired), default=None),
                   "final_desired": r.desired[-1][1] if r.desired else None,
                   "activities": [f"{a['description']} {a['cause']}" for a in r.activities]}
            for name, r in sorted(services.items())}


def observe_run(cloudwatch: Any, autoscaling: Any, *, stage: str, started: datetime,
                finished: datetime, time_scale: float) -> dict[str, ServiceScaling]:
    """Return what the stage's services did from *started* to *finished* (one period after,
    for the last datapoints to arrive)."""
    period = period_s(time_scale)
    end = datetime.fromtimestamp(finished.timestamp() + period, UTC)
    return observe(cloudwatch, autoscaling, cluster=f"itinera-{stage}", start=started,
                   end=end, period=period)


def write(folder: Any, services: dict[str, ServiceScaling]) -> None:
    """Write the run's scaling record to *folder*/scaling.json."""
    (folder / "scaling.json").write_text(json.dumps(
        {name: r.as_dict() for name, r in sorted(services.items())}, indent=1))


def read(folder: Any) -> dict[str, ServiceScaling] | None:
    """Return the scaling record of the run in *folder*, None when it has none."""
    path = folder / "scaling.json"
    if not path.exists():
        return None
    return {name: ServiceScaling.of(raw) for name, raw in json.loads(path.read_text()).items()}
