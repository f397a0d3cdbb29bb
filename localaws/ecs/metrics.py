"""CPU as ECS measures it, the Container Insights task counts, and where the scaler reads them.

Every period each task's CPU time since the last sample is divided by the period and its
vCPU share (task definition Cpu / 1024), as ECS reports CPUUtilization for a Fargate task;
each value is one EMF line (AWS/ECS CPUUtilization per {ClusterName, ServiceName}, so a
period's Average and Maximum are over the tasks), beside ECS/ContainerInsights
RunningTaskCount and DesiredTaskCount. The lines go to <state_dir>/logs/ecs.log, which the
metrics agent tails into CloudWatch, and into an in-memory store that answers the scaler
while no agent runs.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from localaws.ecs.model import EcsService

_TICKS = os.sysconf("SC_CLK_TCK")
Key = tuple[str, str, tuple[tuple[str, str], ...]]


class MetricReader(Protocol):
    """GetMetricData's shape (localaws/cloudwatch/reader.py has the real ones)."""

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, list[tuple[datetime, float]]]:
        """Return each query's Id mapped to its time-ordered (timestamp, value) points."""
        ...


def cpu_seconds(pid: int) -> float | None:
    """Return the CPU time (user + system) process *pid* has used, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of stat(5); [0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuMeter:
    """Turn successive CPU-time samples of each process into utilization of its share."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[float, float]] = {}

    def sample(self, pid: int, vcpu: float, *, now: float | None = None) -> float | None:
        """Return *pid*'s CPU since its last sample, in percent of *vcpu*; None the first time."""
        used = cpu_seconds(pid)
        now = time.monotonic() if now is None else now
        if used is None:
            self.last.pop(pid, None)
            return None
        previous = self.last.get(pid)
        self.last[pid] = (now, used)
        if previous is None or now <= previous[0]:
            return None
        return 100.0 * (used - previous[1]) / ((now - previous[0]) * vcpu)


def emf_line(namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str], *,
             unit: str, timestamp: float | None = None) -> str:
    """Return one EMF JSON line (no Service dimension added: these are AWS namespaces)."""
    stamp = int((time.time() if timestamp is None else timestamp) * 1000)
    return json.dumps({
        "_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": [sorted(dimensions)],
            "Metrics": [{"Name": name, "Unit": unit} for name in metrics]}]},
        **dimensions, **metrics})


class MemoryStore:
    """Datapoints kept in memory, answering GetMetricData's statistics over periods."""

    def __init__(self, *, keep_seconds: float = 3600) -> None:
        self.points: dict[Key, list[tuple[float, float]]] = defaultdict(list)
        self.keep = keep_seconds
        self.lock = threading.Lock()

    def put(self, namespace: str, name: str, dimensions: Mapping[str, str], value: float,
            timestamp: float) -> None:
        """Record one datapoint."""
        key = (namespace, name, tuple(sorted(dimensions.items())))
        with self.lock:
            series = self.points[key]
            series.append((timestamp, value))
            while series and series[0][0] < timestamp - self.keep:
                series.pop(0)

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, list[tuple[datetime, float]]]:
        """Answer MetricStat queries with Average, Sum, Maximum, Minimum or SampleCount."""
        out: dict[str, list[tuple[datetime, float]]] = {}
        for query in queries:
            stat = query["MetricStat"]
            metric, period = stat["Metric"], float(stat["Period"])
            key = (metric["Namespace"], metric["MetricName"],
                   tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))))
            buckets: dict[float, list[float]] = defaultdict(list)
            with self.lock:
                for ts, value in self.points.get(key, []):
                    if start.timestamp() <= ts < end.timestamp():
                        bucket = start.timestamp() + (ts - start.timestamp()) // period * period
                        buckets[bucket].append(value)
            out[query["Id"]] = [(datetime.fromtimestamp(b, UTC), _stat(stat["Stat"], values))
                                for b, values in sorted(buckets.items())]
        return out


def _stat(name: str, values: list[float]) -> float:
    if name == "Average":
        return sum(values) / len(values)
    if name == "Sum":
        return sum(values)
    if name == "Maximum":
        return max(values)
    if name == "Minimum":
        return min(values)
    if name == "SampleCount":
        return float(len(values))
    raise ValueError(f"the in-memory store does not answer {name}")


class Publisher:
    """Write EMF lines to the ECS stand-in's log, and the same datapoints to a store."""

    def __init__(self, log_path: Path, store: MemoryStore) -> None:
        self.log_path, self.store = log_path, store
        log_path.parent.mkdir(parents=True, exist_ok=True)

    def publish(self, namespace: str, metrics: Mapping[str, float],
                dimensions: Mapping[str, str], *, unit: str,
                timestamp: float | None = None) -> None:
        """Publish *metrics* with *dimensions*, now or at *timestamp*."""
        stamp = time.time() if timestamp is None else timestamp
        with self.log_path.open("a") as log:
            log.write(emf_line(namespace, metrics, dimensions, unit=unit, timestamp=stamp) + "\n")
        for name, value in metrics.items():
            self.store.put(namespace, name, dimensions, value, stamp)


def service_dimensions(service: EcsService) -> dict[str, str]:
    """Return the {ClusterName, ServiceName} dimensions of *service*."""
    return {"ClusterName": service.cluster, "ServiceName": service.name}
