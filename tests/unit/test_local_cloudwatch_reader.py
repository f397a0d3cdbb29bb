"""The local reader sends plain statistics to CloudWatch and answers percentiles itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from localaws.cloudwatch.emf import Datum
from localaws.cloudwatch.reader import CloudWatchReader, LocalReader
from localaws.cloudwatch.store import MetricStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeCloudWatch:
    """Answers GetMetricData with one point per query, in two pages, recording the calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        results = [{"Id": q["Id"], "Timestamps": [T0], "Values": [1.0]}
                   for q in kwargs["MetricDataQueries"]]
        if "NextToken" not in kwargs:
            return {"MetricDataResults": results, "NextToken": "page-2"}
        return {"MetricDataResults": [{**r, "Timestamps": [T0 + timedelta(seconds=60)],
                                       "Values": [2.0]} for r in results]}


def _query(qid: str, stat: str, dims: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M",
                                                 "Dimensions": dims},
                                      "Period": 60, "Stat": stat}, **extra}


def test_cloudwatch_reader_follows_pages_and_sorts_dimensions() -> None:
    """Both pages' points come back in time order; dimensions go out sorted by name."""
    client = FakeCloudWatch()
    dims = [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}]
    got = CloudWatchReader(client).get_metric_data([_query("q", "Sum", dims)], T0,
                                                   T0 + timedelta(minutes=5))
    assert got == {"q": [(T0, 1.0), (T0 + timedelta(seconds=60), 2.0)]}
    sent = client.calls[0]["MetricDataQueries"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert [d["Name"] for d in sent] == ["A", "B"]


def test_local_reader_splits_percentiles_from_the_rest(tmp_path: Path) -> None:
    """p99 comes from the store, Sum from CloudWatch; math gets no points; ReturnData=False
    queries are left out."""
    store = MetricStore(tmp_path / "metrics.sqlite")
    dims = [{"Name": "A", "Value": "1"}]
    store.put([Datum(namespace="N", name="M", dimensions=(("A", "1"),),
                     timestamp=T0.timestamp() + 1, values=(0.5, 0.7, 0.9))])
    client = FakeCloudWatch()
    got = LocalReader(client, store).get_metric_data(
        [_query("p", "p99", dims), _query("s", "Sum", dims),
         _query("hidden", "Sum", dims, ReturnData=False),
         {"Id": "m", "Expression": "s * 2"}], T0, T0 + timedelta(minutes=5))
    assert got["p"] == [(T0, 0.9)]
    assert [v for _, v in got["s"]] == [1.0, 2.0]
    assert got["m"] == [] and "hidden" not in got
    assert [q["Id"] for q in client.calls[0]["MetricDataQueries"]] == ["s"]
