"""EMF log lines become datapoints exactly as CloudWatch Logs extracts them."""

from __future__ import annotations

import json

from itinera.metrics import emf, emf_line
from localaws.cloudwatch.emf import dimensions_of, parse_line


def _line(document: dict[str, object]) -> str:
    return json.dumps(document)


def test_each_dimension_set_is_one_datum() -> None:
    """A directive with two dimension sets yields the metric once per set."""
    line = _line({"_aws": {"Timestamp": 1_700_000_000_500, "CloudWatchMetrics": [{
        "Namespace": "Itinera", "Dimensions": [["Service"], ["Service", "AZ"]],
        "Metrics": [{"Name": "Holds", "Unit": "Count"}]}]},
        "Service": "inventory", "AZ": "az-a", "Holds": 3})
    data = parse_line(line)
    assert [d.dimensions for d in data] == [(("Service", "inventory"),),
                                           (("AZ", "az-a"), ("Service", "inventory"))]
    assert all(d.values == (3.0,) and d.unit == "Count" for d in data)
    assert data[0].timestamp == 1_700_000_000.5


def test_value_arrays_become_several_values() -> None:
    """A list value is several samples of one metric, each kept for percentiles."""
    doc = emf_line("AWS/Lambda", {"Duration": [12.5, 40.0, 7.0]}, {"FunctionName": "f"},
                   unit="Milliseconds")
    (datum,) = parse_line(json.dumps(doc))
    assert datum.values == (12.5, 40.0, 7.0)
    assert datum.unit == "Milliseconds"
    assert datum.namespace == "AWS/Lambda" and datum.dimensions == (("FunctionName", "f"),)


def test_empty_dimension_list_publishes_without_dimensions() -> None:
    """`Dimensions: []` publishes the metric with no dimensions."""
    line = _line({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
        "Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "X"}]}]}, "X": 1})
    (datum,) = parse_line(line)
    assert datum.dimensions == () and datum.unit == "None"


def test_non_emf_lines_are_ignored() -> None:
    """Plain text, other JSON and broken EMF yield nothing."""
    assert parse_line("GET /health 200") == []
    assert parse_line('{"level": "info", "message": "hi"}') == []
    assert parse_line('{"_aws": {"Timestamp": 1}}') == []
    assert parse_line('{"_aws": ') == []
    assert parse_line("") == []


def test_missing_dimension_or_bad_value_drops_only_that_metric() -> None:
    """A set naming an absent dimension, or a non-numeric value, is skipped; the rest stays."""
    line = _line({"_aws": {"Timestamp": 1000, "CloudWatchMetrics": [{
        "Namespace": "N", "Dimensions": [["Missing"], ["Service"]],
        "Metrics": [{"Name": "Good"}, {"Name": "Bad"}, {"Name": "Absent"}]}]},
        "Service": "s", "Good": 2, "Bad": "many"})
    (datum,) = parse_line(line)
    assert (datum.name, datum.dimensions, datum.values) == ("Good", (("Service", "s"),), (2.0,))


def test_existing_emf_helper_keeps_service_dimension() -> None:
    """The services' `emf` documents still carry the Service dimension through extraction."""
    (datum,) = parse_line(json.dumps(emf({"X": 1}, namespace="Itinera", service="gateway")))
    assert datum.dimensions == dimensions_of({"Service": "gateway"})


def test_bytes_lines_parse_too() -> None:
    """The agent reads bytes from log files; they parse like text."""
    doc = emf_line("N", {"X": 4}, {"A": "b"}, timestamp=10.0)
    (datum,) = parse_line(json.dumps(doc).encode())
    assert datum.timestamp == 10.0 and datum.values == (4.0,)
