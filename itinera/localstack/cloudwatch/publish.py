"""PutMetricData in CloudWatch's batch shapes: up to 1000 metrics a request, 150 values each."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from itinera.localstack.cloudwatch.emf import NO_UNIT, Datum

log = logging.getLogger("itinera.cloudwatch.publish")
MAX_METRICS = 1000
MAX_VALUES = 150


def metric_data(data: Iterable[Datum]) -> dict[str, list[dict[str, Any]]]:
    """Return PutMetricData `MetricData` entries per namespace; repeated values become Counts."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for datum in data:
        counts = sorted(Counter(datum.values).items())
        for first in range(0, len(counts), MAX_VALUES):
            chunk = counts[first:first + MAX_VALUES]
            entry: dict[str, Any] = {
                "MetricName": datum.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in datum.dimensions],
                "Timestamp": datetime.fromtimestamp(datum.timestamp, UTC),
                "Values": [value for value, _ in chunk],
                "Counts": [float(count) for _, count in chunk]}
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
