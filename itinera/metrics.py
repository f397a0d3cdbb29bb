"""The one metrics helper: CloudWatch embedded metric format (EMF) lines on stdout."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

MetricValue = float | Sequence[float]
# The AZ this process serves in (the local stack's tasks have one each); read once.
_AZ = os.environ.get("AVAILABILITY_ZONE") or None


def emf_line(namespace: str, metrics: Mapping[str, MetricValue],
             dimensions: Mapping[str, str] | None = None, *, unit: str = "Count",
             units: Mapping[str, str] | None = None,
             timestamp: float | None = None,
             rollups: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """Return one EMF document for *metrics* under *namespace*, with exactly *dimensions*.

    A value may be a list (several samples of one metric, up to 100); *units* overrides
    *unit* per metric; *timestamp* is in seconds since the epoch (now when None); each of
    *rollups* (a subset of the dimensions' names) publishes the metrics under it as well.
    """
    dims = dict(dimensions or {})
    at = time.time() if timestamp is None else timestamp
    return {
        "_aws": {"Timestamp": int(at * 1000), "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": [sorted(dims), *(sorted(r) for r in rollups)],
            "Metrics": [{"Name": name, "Unit": (units or {}).get(name, unit)}
                        for name in metrics]}]},
        **dims, **{name: list(v) if isinstance(v, Sequence) else v
                   for name, v in metrics.items()},
    }


def put_metric_line(namespace: str, metrics: Mapping[str, MetricValue],
                    dimensions: Mapping[str, str] | None = None, **kwargs: Any) -> None:
    """Write one EMF line (see `emf_line`) on stdout, where CloudWatch Logs picks it up."""
    _write(emf_line(namespace, metrics, dimensions, **kwargs))


def emf(metrics: Mapping[str, float], *, namespace: str, service: str, unit: str = "Count",
        dimensions: Mapping[str, str] | None = None, az: str | None = None) -> dict[str, Any]:
    """Return the EMF fields that make CloudWatch read *metrics* out of one JSON log line.

    With *az*, each metric is also published per AvailabilityZone (a second dimension set),
    so the service-wide metrics the dashboards and alarms name stay as they are.
    """
    dims = {"Service": service, **(dimensions or {})}
    document = emf_line(namespace, metrics, dims, unit=unit)
    if az and "AvailabilityZone" not in dims:
        (declaration,) = document["_aws"]["CloudWatchMetrics"]
        declaration["Dimensions"].append(sorted([*dims, "AvailabilityZone"]))
        document["AvailabilityZone"] = az
    return document


def put_metrics(metrics: Mapping[str, float], *, namespace: str, service: str,
                **kwargs: Any) -> None:
    """Write *metrics* as one EMF JSON line on stdout, where CloudWatch Logs picks it up."""
    kwargs.setdefault("az", _AZ)
    _write(emf(metrics, namespace=namespace, service=service, **kwargs))


def _write(document: dict[str, Any]) -> None:
    # Not through the JSON log formatter: it drops `_`-prefixed keys, and EMF needs `_aws`
    # at the top level of the line. One write per line keeps concurrent writers from mixing.
    sys.stdout.write(orjson.dumps(document).decode() + "\n")
    sys.stdout.flush()
