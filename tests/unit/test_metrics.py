"""EMF lines carry what CloudWatch needs to turn a log line into metrics."""

from __future__ import annotations

import json

import pytest

from itinera.metrics import emf, put_metrics


def test_emf_names_namespace_dimensions_and_values() -> None:
    """The document declares each metric with its unit, under the namespace and dimensions."""
    doc = emf({"BookingsConfirmed": 1, "Latency": 2.5}, namespace="Itinera/Checkout",
              service="checkout", dimensions={"AZ": "az-a"})
    (declaration,) = doc["_aws"]["CloudWatchMetrics"]
    assert declaration["Namespace"] == "Itinera/Checkout"
    assert declaration["Dimensions"] == [["AZ", "Service"]]
    assert [m["Name"] for m in declaration["Metrics"]] == ["BookingsConfirmed", "Latency"]
    assert doc["Service"] == "checkout" and doc["AZ"] == "az-a"
    assert doc["BookingsConfirmed"] == 1 and doc["Latency"] == 2.5
    assert isinstance(doc["_aws"]["Timestamp"], int)


def test_put_metrics_writes_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    """One call is one line of JSON on stdout."""
    put_metrics({"X": 3}, namespace="N", service="s")
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["X"] == 3


def test_a_task_in_an_az_also_publishes_per_az() -> None:
    """With an AZ, each metric gets a second dimension set with AvailabilityZone; the
    service-wide set stays first and unchanged."""
    doc = emf({"Holds": 1}, namespace="Itinera/Inventory", service="inventory", az="az-b")
    (declaration,) = doc["_aws"]["CloudWatchMetrics"]
    assert declaration["Dimensions"] == [["Service"], ["AvailabilityZone", "Service"]]
    assert doc["AvailabilityZone"] == "az-b"
