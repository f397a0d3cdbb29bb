"""Read metrics the way dashboards and alarms do: GetMetricData queries, one answer per Id.

`CloudWatchReader` asks CloudWatch itself (AWS, or moto locally). moto's GetMetricData
answers only Sum, Average, Minimum, Maximum and SampleCount, so `LocalReader` answers
percentile statistics (p99, p99.9, tm99...) from the raw store the metrics agent fills, and
the rest from moto. Expression (metric math) queries get no points from either reader here:
the caller evaluates math over the series it asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3

from localaws.cloudwatch.emf import dimensions_of
from localaws.cloudwatch.stats import is_percentile
from localaws.cloudwatch.store import MetricStore, store_path
from localaws.config import StackConfig, aws_env

Series = list[tuple[datetime, float]]
# GetMetricData takes at most 500 queries per call.
MAX_QUERIES = 500


class MetricReader(Protocol):
    """Anything that answers GetMetricData queries with time-ordered points per query Id."""

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, Series]:
        """Return Id -> (timestamp, value) points, oldest first, for each returned query."""
        ...


def _returned(query: dict[str, Any]) -> bool:
    return bool(query.get("ReturnData", True))


class CloudWatchReader:
    """GetMetricData against a CloudWatch endpoint (AWS, or moto)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, Series]:
        """Return each returned query's points, following NextToken to the end."""
        out: dict[str, Series] = {q["Id"]: [] for q in queries if _returned(q)}
        queries = [_sorted_dimensions(q) for q in queries]
        for first in range(0, len(queries), MAX_QUERIES):
            batch = queries[first:first + MAX_QUERIES]
            kwargs: dict[str, Any] = {"MetricDataQueries": batch, "StartTime": start,
                                      "EndTime": end, "ScanBy": "TimestampAscending"}
            while True:
                answer = self.client.get_metric_data(**kwargs)
                for result in answer.get("MetricDataResults", []):
                    if result["Id"] in out:
                        out[result["Id"]] += zip(result.get("Timestamps", []),
                                                 result.get("Values", []), strict=True)
                token = answer.get("NextToken")
                if not token:
                    break
                kwargs["NextToken"] = token
        return {key: sorted(points, key=lambda p: p[0]) for key, points in out.items()}


def _sorted_dimensions(query: dict[str, Any]) -> dict[str, Any]:
    """Return *query* with its metric's dimensions sorted by name.

    CloudWatch ignores their order. moto compares `sorted()` lists of its Dimension objects,
    whose `__lt__` is broken (moto/cloudwatch/models.py), so a query matches only when its
    dimensions come in the order they were put in: by name, as the agent puts them.
    """
    if "MetricStat" not in query:
        return query
    stat = query["MetricStat"]
    metric = stat["Metric"]
    dims = sorted(metric.get("Dimensions", []), key=lambda d: d["Name"])
    return {**query, "MetricStat": {**stat, "Metric": {**metric, "Dimensions": dims}}}


class LocalReader:
    """Percentiles from the raw store, every other statistic from moto's CloudWatch."""

    def __init__(self, client: Any, store: MetricStore) -> None:
        self.cloudwatch = CloudWatchReader(client)
        self.store = store

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, Series]:
        """Answer *queries* as CloudWatch would, percentiles computed from raw samples."""
        returned = [q for q in queries if _returned(q)]
        raw = [q for q in returned if "MetricStat" in q and is_percentile(q["MetricStat"]["Stat"])]
        remote = [q for q in returned if "MetricStat" in q and q not in raw]
        out: dict[str, Series] = {q["Id"]: [] for q in returned}
        out.update(self.cloudwatch.get_metric_data(remote, start, end) if remote else {})
        for query in raw:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            out[query["Id"]] = self.store.query(
                metric["Namespace"], metric["MetricName"],
                dimensions_of(metric.get("Dimensions", [])), period=int(stat["Period"]),
                stat=stat["Stat"], start=_aware(start), end=_aware(end), unit=stat.get("Unit"))
        return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def local_reader(state_dir: Path, endpoint_url: str, region: str, *,
                 credentials: Mapping[str, str] | None = None) -> LocalReader:
    """Return a reader for the local stack at *state_dir* whose emulator is *endpoint_url*.

    *credentials* (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY[, AWS_SESSION_TOKEN]) default to
    the emulator's unchecked ones; under --enforce-iam pass the operator's.
    """
    creds = credentials or aws_env(StackConfig(region=region))
    client = boto3.client("cloudwatch", endpoint_url=endpoint_url, region_name=region,
                          aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=creds.get("AWS_SESSION_TOKEN"))
    return LocalReader(client, MetricStore(store_path(state_dir)))
