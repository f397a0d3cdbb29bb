"""A run's figures as CloudWatch datapoints (Itinera/Load), from locust's recorded history."""

from __future__ import annotations

from typing import Any

from loadtests import names
from loadtests.metrics import ALL, NAMESPACE, datums, per_period, publish
from loadtests.stats import AGGREGATED, Recorded, Sample


def sample(t: int, requests: int, failures: int = 0, users: int = 5) -> Sample:
    """One second of cumulative counts."""
    return Sample(t=t, users=users, requests=requests, failures=failures,
                  percentiles={50: 10.0, 95: 40.0, 99: 90.0})


def test_cumulative_counts_become_counts_per_period() -> None:
    """Seconds 0-5 and 6-11 are two 6 s periods: 12 then 30 requests, 1 then 2 failures."""
    samples = [sample(1_800_000_000 + s, requests=2 * (s + 1) if s < 6 else 12 + 5 * (s - 5),
                      failures=1 if s >= 3 else 0) for s in range(12)]
    samples[-1] = sample(samples[-1].t, samples[-1].requests, failures=3)
    periods = per_period(samples, 6)
    assert [(start % 6, requests, failures) for start, requests, failures, _ in periods] == [
        (0, 12, 1), (0, 30, 2)]


def test_every_http_request_is_counted_once_per_endpoint_and_in_all(
        booking_run: Recorded) -> None:
    """Per endpoint and in all, the periods' requests add up to what locust counted; booking
    outcomes and journeys are not HTTP requests; every datapoint is stamped at a period's
    start and named by scenario and endpoint."""
    data = datums(booking_run, scenario="booking", period=6)
    http = [k for k in booking_run.history if k != AGGREGATED
            and k.split(" ", 1)[0] not in names.OUTCOME_TYPES]

    def total(endpoint: str) -> float:
        return sum(d["Value"] for d in data if d["MetricName"] == "Requests"
                   and d["Dimensions"][0]["Value"] == endpoint)

    for key in http:
        assert total(key) == booking_run.history[key][-1].requests
    assert total(ALL) == sum(booking_run.history[k][-1].requests for k in http)
    assert not any(d["Dimensions"][0]["Value"].startswith(names.BOOKING) for d in data)
    assert all(d["Timestamp"].timestamp() % 6 == 0 for d in data)
    assert {d["Dimensions"][1]["Value"] for d in data} == {"booking"}
    assert {tuple(x["Name"] for x in d["Dimensions"]) for d in data} == {("Endpoint",
                                                                          "Scenario")}
    assert {"LatencyP95", "Users", "Failures"} <= {d["MetricName"] for d in data}


class Recording:
    """Keeps what PutMetricData was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **kwargs: Any) -> None:
        """Record one call."""
        self.calls.append(kwargs)


def test_publish_sends_in_batches_under_the_limit(booking_run: Recorded) -> None:
    """Every datapoint is sent to Itinera/Load, at most 500 a call."""
    cloudwatch = Recording()
    sent = publish(cloudwatch, booking_run, scenario="booking", period=1)
    assert sent > 500 and len(cloudwatch.calls) == -(-sent // 500)
    assert sent == sum(len(c["MetricData"]) for c in cloudwatch.calls)
    assert all(c["Namespace"] == NAMESPACE and len(c["MetricData"]) <= 500
               for c in cloudwatch.calls)
