"""Every widget and alarm names a metric that some code emits: monitoring.yaml against
dashboards/metrics.yaml, and the catalog against the code."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from dashboards.drawing import search
from dashboards.drawing.widgets import lines
from gateway.routes import OPERATIONS
from tests.infra.conftest import ROOT

CATALOG = ROOT / "dashboards" / "metrics.yaml"
# itinera.metrics.emf adds it to every app metric; the emitting module never spells it.
IMPLICIT_DIMENSIONS = {"Service"}
Named = tuple[str, str, frozenset[str]]


def catalog() -> list[dict[str, Any]]:
    """The catalog's entries."""
    return list(yaml.safe_load(CATALOG.read_text())["metrics"])


def _body(resource: dict[str, Any]) -> dict[str, Any]:
    sub = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    return dict(json.loads(sub[0] if isinstance(sub, list) else sub))


def dashboard_metrics(resources: dict[str, Any]) -> dict[Named, list[dict[str, Any]]]:
    """Each (namespace, metric, dimension names) a deployed dashboard draws, with its values."""
    named: dict[Named, list[dict[str, Any]]] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::CloudWatch::Dashboard":
            continue
        for widget in _body(resource)["widgets"]:
            if widget["type"] != "metric":
                continue
            for line in lines(widget["properties"]):
                if not line.is_expression:
                    key = (line.namespace, line.metric, frozenset(k for k, _ in line.dimensions))
                    named.setdefault(key, []).append(dict(line.dimensions))
                elif (found := search.parse(line.expression)) is not None:
                    key = (found.namespace, found.metric, found.dimension_names)
                    named.setdefault(key, []).append(dict(found.filters))
    return named


def alarm_metrics(resources: dict[str, Any]) -> set[Named]:
    """Each (namespace, metric, dimension names) a deployed alarm watches, math alarms too."""
    named = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in props:
            stats.append(props)
        for metric in stats:
            names = frozenset(d["Name"] for d in metric.get("Dimensions", []))
            named.add((metric["Namespace"], metric["MetricName"], names))
    return named


def catalogued() -> set[Named]:
    """Each (namespace, metric, dimension names) the catalog lists."""
    return {(e["namespace"], e["metric"], frozenset(dims))
            for e in catalog() for dims in e["dimensions"]}


def test_the_template_has_the_five_dashboards(resources: dict[str, Any]) -> None:
    """monitoring.yaml deploys Booking SLO, Multi-AZ, Autoscaling, Async pipeline, Business."""
    names = {r["Properties"]["DashboardName"]["Fn::Sub"][0]
             for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"}
    assert {f"itinera-${{P0xStage}}-{slug}" for slug in
            ("booking-slo", "multi-az", "autoscaling", "async-pipeline", "business")} <= names


def test_every_dashboard_metric_is_catalogued(resources: dict[str, Any]) -> None:
    """Each metric a widget draws (directly or through SEARCH) is in dashboards/metrics.yaml."""
    drawn = set(dashboard_metrics(resources))
    assert drawn, "no dashboard metrics found"
    assert drawn - catalogued() == set()


def test_every_alarm_metric_is_catalogued(resources: dict[str, Any]) -> None:
    """Each metric an alarm watches, with its dimension names, is in dashboards/metrics.yaml."""
    watched = alarm_metrics(resources)
    assert watched
    assert watched - catalogued() == set()


def test_the_routes_the_dashboards_name_are_the_gateways(resources: dict[str, Any]) -> None:
    """Each Route dimension value a widget names is `METHOD path` of a gateway operation."""
    routes = {f"{op.method} {op.path}" for op in OPERATIONS}
    named = {dims["Route"] for (ns, _, _), found in dashboard_metrics(resources).items()
             if ns == "Itinera/Gateway" for dims in found if "Route" in dims}
    assert named and named <= routes


@pytest.mark.parametrize("entry", catalog(), ids=lambda e: f"{e['namespace']}:{e['metric']}")
def test_each_catalogued_metric_is_emitted_by_its_module(entry: dict[str, Any]) -> None:
    """The metric's name and dimension names appear literally in the code that emits it."""
    if entry["emitter"] == "aws":
        assert entry["namespace"].startswith("AWS/"), "only AWS emits without local code"
        return
    path = ROOT / entry["emitter"]
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    text = "\n".join(f.read_text() for f in files)
    wanted = [entry["metric"], *{d for dims in entry["dimensions"] for d in dims
                                 if d not in IMPLICIT_DIMENSIONS}]
    missing = [w for w in wanted if f'"{w}"' not in text and f"{w}=" not in text]
    assert files, f"{entry['emitter']} does not exist"
    assert missing == []
