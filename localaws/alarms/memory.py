"""An in-memory MetricReader over raw samples, with CloudWatch's statistics: for tests."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from localaws.cloudwatch.stats import statistic


def metric_key(metric: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Return a hashable identity of a GetMetricData `Metric` (namespace, name, dimensions)."""
    dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
    return metric["Namespace"], metric["MetricName"], dims


class MemoryReader:
    """Raw samples put by hand, answered per period and statistic like GetMetricData."""

    def __init__(self) -> None:
        self.samples: dict[tuple[Any, ...], list[tuple[datetime, float]]] = defaultdict(list)

    def put(self, namespace: str, name: str, dimensions: dict[str, str], when: datetime,
            *values: float) -> None:
        """Record *values* of one metric at *when*."""
        metric = {"Namespace": namespace, "MetricName": name,
                  "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}
        self.samples[metric_key(metric)].extend((when, v) for v in values)

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime,
                        end: datetime) -> dict[str, list[tuple[datetime, float]]]:
        """Return each MetricStat query's statistic per period in [start, end)."""
        out: dict[str, list[tuple[datetime, float]]] = {}
        for query in queries:
            stat = query["MetricStat"]
            period = int(stat["Period"])
            buckets: dict[int, list[float]] = defaultdict(list)
            for when, sample in self.samples.get(metric_key(stat["Metric"]), []):
                if start <= when < end:
                    buckets[int(when.timestamp()) // period * period].append(sample)
            out[query["Id"]] = [(datetime.fromtimestamp(t, UTC), value)
                                for t, values in sorted(buckets.items())
                                if (value := statistic(stat["Stat"], values)) is not None]
        return out
