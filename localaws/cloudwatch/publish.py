"""PutMetricData in CloudWatch's batch shapes: up to 1000 metrics a request.

A datum with several values goes as a statistic set (SampleCount, Sum, Minimum, Maximum),
not as Values and Counts: moto stores one object per counted value and scans them all on
every GetMetricData, which a load run's per-request response times would make slow. The
statistics moto answers come out the same; percentiles come from the raw store anyway.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from localaws.cloudwatch.emf import NO_UNIT, Datum

log = logging.getLogger("itinera.cloudwatch.publish")
MAX_METRICS = 1000


def metric_data(data: Iterable[Datum]) -> dict[str, list[dict[str, Any]]]:
    """Return PutMetricData `MetricData` entries per namespace, one per datum."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for datum in data:
        entry: dict[str, Any] = {
            "MetricName": datum.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in datum.dimensions],
            "Timestamp": datetime.fromtimestamp(datum.timestamp, UTC)}
        if len(datum.values) == 1:
            entry["Value"] = datum.values[0]
        else:
            entry["StatisticValues"] = {
                "SampleCount": float(len(datum.values)), "Sum": math.fsum(datum.values),
                "Minimum": min(datum.values), "Maximum": max(datum.values)}
        if datum.unit and datum.unit != NO_UNIT:
            entry["Unit"] = datum.unit
        out[datum.namespace].append(entry)
    return out


class Publisher:
    """Send datapoints to one CloudWatch endpoint; a failed request is logged, not retried."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def publish(self, data: Iterable[Datum]) -> int:
        """Put *data*; return how many MetricData entries CloudWatch accepted."""
        accepted = 0
        for namespace, entries in metric_data(data).items():
            for first in range(0, len(entries), MAX_METRICS):
                batch = entries[first:first + MAX_METRICS]
                try:
                    self.client.put_metric_data(Namespace=namespace, MetricData=batch)
                except Exception as exc:  # the emulator restarting must not stop the agent
                    log.warning("put_metric_data failed", extra={
                        "namespace": namespace, "entries": len(batch), "error": repr(exc)})
                    continue
                accepted += len(batch)
        return accepted
