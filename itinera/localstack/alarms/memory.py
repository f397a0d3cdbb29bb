"""An in-memory MetricReader over raw samples: for tests, and to state what a statistic is."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


def aggregate(samples: Sequence[float], stat: str) -> float:
    """Return CloudWatch statistic *stat* (Sum, Average, pNN ...) of one period's samples."""
    if stat == "Sum":
        return float(sum(samples))
    if stat == "Average":
        return float(sum(samples)) / len(samples)
    if stat == "Minimum":
        return float(min(samples))
    if stat == "Maximum":
        return float(max(samples))
    if stat == "SampleCount":
        return float(len(samples))
    if stat.startswith("p"):
        # Nearest rank: the smallest sample with at least p% of the samples at or below it.
        ordered = sorted(samples)
        rank = math.ceil(float(stat[1:]) / 100 * len(ordered))
        return float(ordered[max(rank, 1) - 1])
    raise ValueError(f"unknown statistic {stat}")


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
            for when, value in self.samples.get(metric_key(stat["Metric"]), []):
                if start <= when < end:
                    buckets[int(when.timestamp()) // period * period].append(value)
            out[query["Id"]] = [(datetime.fromtimestamp(t, UTC), aggregate(v, stat["Stat"]))
                                for t, v in sorted(buckets.items())]
        return out
