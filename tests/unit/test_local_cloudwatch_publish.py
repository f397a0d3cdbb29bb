"""Datapoints go to CloudWatch in its batch limits, several values as one statistic set."""

from __future__ import annotations

from typing import Any

from localaws.cloudwatch.emf import Datum
from localaws.cloudwatch.publish import Publisher, metric_data


class FakeCloudWatch:
    """Records PutMetricData calls; fails the namespace it is told to."""

    def __init__(self, failing: str = "") -> None:
        self.calls: list[dict[str, Any]] = []
        self.failing = failing

    def put_metric_data(self, **kwargs: Any) -> None:
        if kwargs["Namespace"] == self.failing:
            raise ConnectionError("emulator down")
        self.calls.append(kwargs)


def _datum(values: tuple[float, ...], namespace: str = "N", unit: str = "Seconds") -> Datum:
    return Datum(namespace=namespace, name="M", dimensions=(("A", "1"),), timestamp=10.0,
                 values=values, unit=unit)


def test_one_value_is_a_value_and_several_are_a_statistic_set() -> None:
    """A single sample is sent as Value; several as SampleCount/Sum/Minimum/Maximum."""
    entries = metric_data([_datum((0.5,)), _datum((0.1, 0.4, 0.4))])["N"]
    assert entries[0]["Value"] == 0.5 and entries[0]["Unit"] == "Seconds"
    assert entries[1]["StatisticValues"] == {"SampleCount": 3.0, "Sum": 0.9,
                                             "Minimum": 0.1, "Maximum": 0.4}
    assert entries[0]["Dimensions"] == [{"Name": "A", "Value": "1"}]
    assert "Unit" not in metric_data([_datum((1.0,), unit="None")])["N"][0]


def test_batches_hold_at_most_1000_metrics_and_a_failure_skips_only_its_batch() -> None:
    """2500 datums make three requests; a namespace that fails does not stop the others."""
    client = FakeCloudWatch(failing="Down")
    accepted = Publisher(client).publish([_datum((1.0,)) for _ in range(2500)]
                                         + [_datum((1.0,), namespace="Down")])
    assert [len(c["MetricData"]) for c in client.calls] == [1000, 1000, 500]
    assert accepted == 2500
