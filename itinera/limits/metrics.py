"""Refusals by policy, for the Business dashboard and the alarm that watches them."""

from __future__ import annotations

from itinera.metric_batch import MetricBatch
from itinera.metrics import put_metric_line

NAMESPACE = "Itinera/Limits"
METRIC = "LimitExceeded"


def new_batch(service: str) -> MetricBatch:
    """Return a batch for *service*'s refusals (services that serve many requests)."""
    return MetricBatch(namespace=NAMESPACE, service=service)


def count_refusal(batch: MetricBatch, policy: str) -> None:
    """Count one refusal: per policy (the dashboard), and in the service's total (the alarm)."""
    batch.count(METRIC)
    batch.count(METRIC, Policy=policy)


def put_refusal(policy: str, *, service: str) -> None:
    """Write one refusal as its own EMF line (a Lambda function, one request at a time)."""
    put_metric_line(NAMESPACE, {METRIC: 1}, {"Service": service, "Policy": policy},
                    rollups=[["Service"]])
