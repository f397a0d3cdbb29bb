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
