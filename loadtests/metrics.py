"""A load run's own figures in CloudWatch (namespace Itinera/Load), so the dashboards show the
load beside the system it loads: per CloudWatch period, HTTP requests and failures per
endpoint and in all, the endpoints' p50/p95/p99 (locust's 10 s window at the period's end),
and the users, stamped with the times locust measured them.

They are sent once the run has ended, from its recorded history (PutMetricData takes
timestamps up to two weeks old), with the same call on AWS and on the local stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loadtests import names
from loadtests.stats import AGGREGATED, Recorded, Sample

NAMESPACE = "Itinera/Load"
ALL = "all"  # the Endpoint dimension's value for every HTTP request together
PER_CALL = 500  # PutMetricData takes up to 1,000 datums per call


def per_period(samples: list[Sample], period: int) -> list[tuple[int, int, int, Sample]]:
    """Return (period start, requests in it, failures in it, its last sample), period by
    period, from locust's cumulative samples."""
    out: list[tuple[int, int, int, Sample]] = []
    requests = failures = 0  # the counts at the end of the period before
    for sample in samples:
        start = sample.t - sample.t % period
        if out and out[-1][0] == start:
            out[-1] = (start, sample.requests - requests, sample.failures - failures, sample)
            continue
        if out:
            requests, failures = out[-1][3].requests, out[-1][3].failures
        out.append((start, sample.requests - requests, sample.failures - failures, sample))
    return out


def datums(recorded: Recorded, *, scenario: str, period: int) -> list[dict[str, Any]]:
    """Return the run's datapoints as PutMetricData's MetricData."""
    out: list[dict[str, Any]] = []

    def datum(name: str, endpoint: str, at: int, value: float, unit: str) -> None:
        out.append({"MetricName": name, "Timestamp": datetime.fromtimestamp(at, UTC),
                    "Value": float(value), "Unit": unit,
                    # In name order: moto matches a query's dimensions in the order stored.
                    "Dimensions": [{"Name": "Endpoint", "Value": endpoint},
                                   {"Name": "Scenario", "Value": scenario}]})

    totals: dict[int, list[int]] = {}
    for key, samples in sorted(recorded.history.items()):
        if key == AGGREGATED or key.split(" ", 1)[0] in names.OUTCOME_TYPES:
            continue
        for start, requests, failures, last in per_period(samples, period):
            total = totals.setdefault(start, [0, 0])
            total[0] += requests
            total[1] += failures
            datum("Requests", key, start, requests, "Count")
            datum("Failures", key, start, failures, "Count")
            for p in (50, 95, 99):
                value = last.percentiles.get(p)
                if value is not None:
                    datum(f"LatencyP{p}", key, start, value, "Milliseconds")
    # Every HTTP request together (locust's aggregate also counts the booking outcomes).
    for start, (requests, failures) in sorted(totals.items()):
        datum("Requests", ALL, start, requests, "Count")
        datum("Failures", ALL, start, failures, "Count")
    for start, _, _, last in per_period(recorded.history.get(AGGREGATED, []), period):
        datum("Users", ALL, start, last.users, "Count")
    return out


def publish(cloudwatch: Any, recorded: Recorded, *, scenario: str, period: int) -> int:
    """Send the run's figures to CloudWatch; return how many datapoints were sent."""
    data = datums(recorded, scenario=scenario, period=period)
    for first in range(0, len(data), PER_CALL):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[first:first + PER_CALL])
    return len(data)
