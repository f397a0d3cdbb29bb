"""SEARCH expressions as the dashboards write them, answered from ListMetrics."""

from __future__ import annotations

import pytest

from dashboards.drawing.search import Dimensions, Search, distinct_labels, find, parse

PER_AZ = ("SEARCH('{AWS/ApplicationELB,AvailabilityZone,LoadBalancer,TargetGroup} "
          "MetricName=\"RequestCount\" TargetGroup=\"targetgroup/gw/1\"', 'Sum', 60)")


class FakeCatalog:
    """ListMetrics answers from a fixed list."""

    def __init__(self, metrics: list[Dimensions]) -> None:
        self.metrics = metrics

    def list_metrics(self, namespace: str, metric: str) -> list[Dimensions]:
        """Return every dimension set (the fake holds one namespace and metric)."""
        return self.metrics


def test_the_schema_form_is_parsed() -> None:
    """Namespace, the exact dimension names, MetricName, filters, stat and period are read."""
    assert parse(PER_AZ) == Search(
        namespace="AWS/ApplicationELB",
        dimension_names=frozenset({"AvailabilityZone", "LoadBalancer", "TargetGroup"}),
        metric="RequestCount", filters=(("TargetGroup", "targetgroup/gw/1"),), stat="Sum",
        period=60)


def test_math_is_not_a_search_and_other_searches_are_refused() -> None:
    """A math expression parses to None; a SEARCH this renderer cannot honour raises."""
    assert parse("100 * a / b") is None
    with pytest.raises(ValueError):
        parse("SEARCH('RequestCount', 'Sum', 60)")


def test_a_search_finds_only_metrics_with_exactly_its_dimensions_and_values() -> None:
    """Per-AZ series of the gateway's target group match; the aggregate and others do not."""
    lb, gw, inv = ("LoadBalancer", "app/pub/1"), ("TargetGroup", "targetgroup/gw/1"), \
        ("TargetGroup", "targetgroup/inv/1")
    catalog = FakeCatalog([
        (lb, gw, ("AvailabilityZone", "az-b")), (("AvailabilityZone", "az-a"), lb, gw),
        (lb, gw), (lb, inv, ("AvailabilityZone", "az-a")),
        (("AvailabilityZone", "az-a"), lb, gw)])
    found = find(parse(PER_AZ) or pytest.fail("not parsed"), catalog)
    assert found == [(("AvailabilityZone", "az-a"), lb, gw), (("AvailabilityZone", "az-b"), lb, gw)]


def test_each_result_is_labelled_by_the_values_that_tell_it_from_the_others() -> None:
    """Per-AZ results of one load balancer are labelled by their AZ alone."""
    search = parse(PER_AZ) or pytest.fail("not parsed")
    found = [(("AvailabilityZone", az), ("LoadBalancer", "app/pub/1"),
              ("TargetGroup", "targetgroup/gw/1")) for az in ("az-a", "az-b")]
    assert distinct_labels(found, search) == ["az-a", "az-b"]
    assert distinct_labels(found[:1], search) == ["RequestCount"]
