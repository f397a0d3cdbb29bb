"""The one metrics helper: CloudWatch embedded metric format (EMF) lines on stdout."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import orjson

# The AZ this process serves in (the local stack's tasks have one each); read once.
_AZ = os.environ.get("AVAILABILITY_ZONE") or None


def emf(metrics: Mapping[str, float], *, namespace: str, service: str, unit: str = "Count",
        dimensions: Mapping[str, str] | None = None, az: str | None = None) -> dict[str, Any]:
    """Return the EMF fields that make CloudWatch read *metrics* out of one JSON log line.

    With *az*, each metric is also published per AvailabilityZone (a second dimension set),
    so the service-wide metrics the dashboards and alarms name stay as they are.
    """
    dims = {"Service": service, **(dimensions or {})}
    sets = [sorted(dims)]
    if az and "AvailabilityZone" not in dims:
        sets.append(sorted([*dims, "AvailabilityZone"]))
    return {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": sets,
            "Metrics": [{"Name": name, "Unit": unit} for name in metrics]}]},
        **dims, **({"AvailabilityZone": az} if az and len(sets) > 1 else {}), **metrics,
    }


def put_metrics(metrics: Mapping[str, float], *, namespace: str, service: str,
                **kwargs: Any) -> None:
    """Write *metrics* as one EMF JSON line on stdout, where CloudWatch Logs picks it up.

    Not through the JSON log formatter: it drops `_`-prefixed keys, and EMF needs `_aws`
    at the top level of the line. One write per line keeps concurrent writers from mixing.
    """
    kwargs.setdefault("az", _AZ)
    sys.stdout.write(orjson.dumps(emf(metrics, namespace=namespace, service=service,
                                      **kwargs)).decode() + "\n")
    sys.stdout.flush()
