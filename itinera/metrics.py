"""The one metrics helper: CloudWatch embedded metric format (EMF) lines on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import orjson


def emf(metrics: Mapping[str, float], *, namespace: str, service: str, unit: str = "Count",
        dimensions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the EMF fields that make CloudWatch read *metrics* out of one JSON log line."""
    dims = {"Service": service, **(dimensions or {})}
    return {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": [sorted(dims)],
            "Metrics": [{"Name": name, "Unit": unit} for name in metrics]}]},
        **dims, **metrics,
    }


def put_metrics(metrics: Mapping[str, float], *, namespace: str, service: str,
                **kwargs: Any) -> None:
    """Write *metrics* as one EMF JSON line on stdout, where CloudWatch Logs picks it up.

    Not through the JSON log formatter: it drops `_`-prefixed keys, and EMF needs `_aws`
    at the top level of the line. One write per line keeps concurrent writers from mixing.
    """
    sys.stdout.write(orjson.dumps(emf(metrics, namespace=namespace, service=service,
                                      **kwargs)).decode() + "\n")
    sys.stdout.flush()
