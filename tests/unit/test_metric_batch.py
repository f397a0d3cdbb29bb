"""Counts and timings are gathered in memory and written as few EMF lines."""

from __future__ import annotations

import orjson

from itinera.metric_batch import MAX_VALUES_PER_LINE, MetricBatch


def batch_and_output() -> tuple[MetricBatch, list[str]]:
    """A batch writing into a list instead of stdout."""
    written: list[str] = []
    return MetricBatch(namespace="Itinera/Gateway", service="gateway",
                       write=written.append), written


def test_counts_add_up_per_dimension_set_into_one_line_each() -> None:
    """Three requests on two routes give two lines whose counts add up, with Service added."""
    batch, _ = batch_and_output()
    batch.count("Requests", Route="GET /v1/flights")
    batch.count("Requests", Route="GET /v1/flights")
    batch.count("ServerErrors", Route="GET /v1/flights")
    batch.count("Requests", Route="POST /v1/holds")
    docs = sorted((orjson.loads(line) for line in batch.lines()), key=lambda d: d["Route"])
    assert [(d["Route"], d.get("Requests"), d.get("ServerErrors")) for d in docs] == [
        ("GET /v1/flights", 2, 1), ("POST /v1/holds", 1, None)]
    (declaration,) = docs[0]["_aws"]["CloudWatchMetrics"]
    assert declaration["Namespace"] == "Itinera/Gateway"
    assert declaration["Dimensions"] == [["Route", "Service"]]
    assert {m["Unit"] for m in declaration["Metrics"]} == {"Count"}
    assert docs[0]["Service"] == "gateway"


def test_timings_keep_every_value_in_arrays_of_at_most_one_hundred() -> None:
    """250 latencies become three lines of 100, 100 and 50 values, in milliseconds."""
    batch, _ = batch_and_output()
    for value in range(250):
        batch.time("Latency", float(value), Route="GET /v1/flights")
    docs = [orjson.loads(line) for line in batch.lines()]
    assert [len(d["Latency"]) for d in docs] == [MAX_VALUES_PER_LINE, MAX_VALUES_PER_LINE, 50]
    assert [v for d in docs for v in d["Latency"]] == [float(v) for v in range(250)]
    assert {d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] for d in docs} == {
        "Milliseconds"}


def test_flush_writes_once_and_starts_afresh() -> None:
    """A flush writes everything in one call; the next flush with nothing new writes nothing."""
    batch, written = batch_and_output()
    batch.count("Searches")
    batch.time("Latency", 3.0)
    batch.flush()
    batch.flush()
    assert len(written) == 1 and written[0].count("\n") == 2
