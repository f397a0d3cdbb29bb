"""`itinera dashboard render` draws every widget of the five dashboards, offline."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from dashboards.drawing.plot import spans
from dashboards.drawing.render import render
from dashboards.drawing.search import Dimensions
from dashboards.drawing.source import AlarmState, DashboardSource, Transition

ROOT = Path(__file__).resolve().parents[3]
END = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(minutes=15)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bodies() -> Any:
    """dashboards/bodies.py: the five dashboards."""
    from dashboards import bodies as module

    return module


def five_dashboards(*slugs: str) -> list[DashboardSource]:
    """The five dashboards' bodies (or those of *slugs*), Sub placeholders left as strings."""
    module = bodies()
    dashboards = [d for d in module.load() if not slugs or d.slug in slugs]
    alarm_ids = {name: name for d in dashboards for w in d.widgets for name in w.alarms}
    out = []
    for dashboard in dashboards:
        # As the deployed template resolves `${Alarm.Arn}`.
        text = re.sub(r"\$\{([a-z0-9-]+)\.Arn\}", r"arn:aws:cloudwatch:r:1:alarm:\1",
                      json.dumps(module.body(dashboard, alarm_ids)))
        out.append(DashboardSource(name=f"itinera-test-{dashboard.slug}", body=json.loads(text)))
    return out


class FakeReader:
    """Answers every query with a point each period, except metrics named *silent*."""

    def __init__(self, silent: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.silent = silent
        self.queries: list[dict[str, Any]] = []

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, list[tuple[datetime, float]]]:
        """Return points every period, valued by the query's position."""
        self.queries += queries
        out = {}
        for index, query in enumerate(queries):
            stat = query["MetricStat"]
            if stat["Metric"]["MetricName"] in self.silent:
                out[query["Id"]] = []
                continue
            step = timedelta(seconds=stat["Period"])
            count = int((end - start) / step)
            out[query["Id"]] = [(start + step * i, float(index + 1 + i % 3))
                                for i in range(count)]
        return out


class TwoAzCatalog:
    """ListMetrics: every metric exists per AZ in az-a and az-b, for any target group."""

    def list_metrics(self, namespace: str, metric: str) -> list[Dimensions]:
        """Return per-AZ dimension sets for both target groups the dashboards name (and, for
        the abuse limits, one set per limit; for the load's figures, one scenario's)."""
        if namespace == "Itinera/Limits":
            return [(("Policy", policy), ("Service", "gateway"))
                    for policy in ("flight-seats", "search")]
        if namespace == "Itinera/Load":
            return [(("Endpoint", "all"), ("Scenario", "scale"))]
        return [(("AvailabilityZone", az), ("LoadBalancer", "lb"), ("TargetGroup", tg))
                for az in ("az-a", "az-b") for tg in ("${GatewayTargetGroup.TargetGroupFullName}",
                                                      "${InventoryTargetGroup.TargetGroupFullName}")]


ALARMS = [AlarmState(name="gateway-target-5xx", arn="arn:x:alarm:gateway-target-5xx",
                     state="OK", reason="back to normal", namespace="AWS/ApplicationELB",
                     metric="HTTPCode_Target_5XX_Count")]
HISTORY = [Transition(alarm="gateway-target-5xx", old="OK", new="ALARM",
                      time=START + timedelta(minutes=5), reason="3 of 3 over 10"),
           Transition(alarm="gateway-target-5xx", old="ALARM", new="OK",
                      time=START + timedelta(minutes=9), reason="back to normal")]


def test_every_widget_becomes_a_valid_png_listed_in_the_page(tmp_path: Path) -> None:
    """Each widget of each dashboard has a PNG that loads, index.html shows them all, and each
    dashboard is also one picture laid out on its grid."""
    dashboards = five_dashboards()
    report = render(dashboards, reader=FakeReader(), catalog=TwoAzCatalog(), alarms=ALARMS,
                    transitions=HISTORY, start=START, end=END, scale=0.1, out=tmp_path,
                    source="a fake")
    page = report.index.read_text()
    assert [d.name for d in report.dashboards] == [d.name for d in dashboards]
    for dashboard, rendered in zip(dashboards, report.dashboards, strict=True):
        assert len(rendered.widgets) == len(dashboard.body["widgets"])
        for widget in rendered.widgets:
            png = tmp_path / widget.png
            assert png.read_bytes().startswith(PNG_SIGNATURE)
            assert matplotlib.image.imread(png).shape[0] > 50
            assert f"src='{widget.png}'" in page
            assert widget.title.replace("&", "&amp;") in page
    assert "Time scale 0.1" in page and "3 of 3 over 10" in page
    for rendered in report.dashboards:
        picture = tmp_path / rendered.picture
        assert matplotlib.image.imread(picture).shape[1] == 24 * 60  # the grid, 60 px a column
        assert f"href='{rendered.picture}'" in page


def test_metric_widgets_with_data_say_so_and_math_and_search_lines_are_drawn(
        tmp_path: Path) -> None:
    """With every metric answered, each metric widget has data, SEARCH gives one line per AZ."""
    report = render(five_dashboards(), reader=FakeReader(), catalog=TwoAzCatalog(), alarms=[],
                    transitions=[], start=START, end=END, scale=0.1, out=tmp_path, source="x")
    widgets = {w.title: w for d in report.dashboards for w in d.widgets}
    assert all(w.has_data and not w.errors for w in widgets.values() if w.kind == "metric")
    per_az = widgets["Gateway requests per AZ"].series
    assert sorted(label for label, _ in per_az) == ["az-a", "az-b"]
    limits = widgets["Abuse limits reached (429s by limit)"].series
    assert len(limits) == 2
    availability = widgets["Availability per route (% answered without 5xx)"].series
    assert [label for label, _ in availability] == ["GET /v1/flights", "POST /v1/holds",
                                                    "POST /v1/bookings"]
    assert all(points == 150 for _, points in availability)  # 15 min of 6 s periods


def test_periods_are_scaled_and_percentiles_asked_as_such(tmp_path: Path) -> None:
    """A 60 s widget asks 6 s periods at scale 0.1; percentile lines ask p50 and p99."""
    reader = FakeReader()
    render(five_dashboards("booking-slo"), reader=reader, catalog=TwoAzCatalog(), alarms=[],
           transitions=[], start=START, end=END, scale=0.1, out=tmp_path, source="x")
    assert {q["MetricStat"]["Period"] for q in reader.queries} == {6}
    stats = {q["MetricStat"]["Stat"] for q in reader.queries
             if q["MetricStat"]["Metric"]["MetricName"] == "TimeToConfirmed"}
    assert stats == {"p50", "p99"}


def test_a_widget_without_data_is_marked(tmp_path: Path) -> None:
    """A metric nobody emitted in the range leaves its widget marked (no data)."""
    report = render(five_dashboards("business"), reader=FakeReader(silent={"OversoldUnits"}),
                    catalog=TwoAzCatalog(), alarms=[], transitions=[], start=START, end=END,
                    scale=0.1, out=tmp_path, source="x")
    (oversold,) = [w for d in report.dashboards for w in d.widgets
                   if w.title == "Oversold units (must stay 0)"]
    assert not oversold.has_data
    assert re.search(r"Oversold units \(must stay 0\) <span class='empty'>\(no data\)",
                     report.index.read_text())


def test_alarm_widgets_report_alarms_missing_from_cloudwatch(tmp_path: Path) -> None:
    """An alarm widget naming alarms CloudWatch does not hold says which ones."""
    report = render(five_dashboards("booking-slo"), reader=FakeReader(), catalog=TwoAzCatalog(),
                    alarms=ALARMS, transitions=HISTORY, start=START, end=END, scale=0.1,
                    out=tmp_path, source="x")
    (alarms,) = [w for w in report.dashboards[0].widgets if w.kind == "alarm"]
    assert "alarm gateway-latency-p99 is not in CloudWatch" in alarms.errors
    assert "alarm gateway-target-5xx is not in CloudWatch" not in alarms.errors


@pytest.mark.parametrize(("current", "expected"), [
    ("OK", [("OK", 0, 5), ("ALARM", 5, 9), ("OK", 9, 15)])])
def test_alarm_spans_follow_the_transitions(current: str,
                                            expected: list[tuple[str, int, int]]) -> None:
    """OK until the ALARM transition, ALARM until it cleared, then OK to the end."""
    got = spans(HISTORY, "gateway-target-5xx", current=current, start=START, end=END)
    assert [(s.state, int((s.start - START).total_seconds() // 60),
             int((s.end - START).total_seconds() // 60)) for s in got] == expected


def test_without_transitions_an_alarm_keeps_its_current_state() -> None:
    """No recorded change: the whole range shows the state CloudWatch reports now."""
    got = spans([], "x", current="INSUFFICIENT_DATA", start=START, end=END)
    assert [(s.state, s.start, s.end) for s in got] == [("INSUFFICIENT_DATA", START, END)]


def test_counts_over_scaled_periods_read_per_aws_period() -> None:
    """At scale 0.1 a Sum over a 6 s period counts a tenth of a minute's: it is drawn ten
    times larger, as on AWS at the same rate (so the 1,000 requests per target line means
    the same); an Average is drawn as it came."""
    from dashboards.drawing.query import per_aws_period

    at = START
    queries = [{"Id": "s", "MetricStat": {"Period": 6, "Stat": "Sum"}},
               {"Id": "a", "MetricStat": {"Period": 6, "Stat": "Average"}}]
    scaled = per_aws_period({"s": [(at, 150.0)], "a": [(at, 40.0)]}, queries,
                            {"s": 60, "a": 60})
    assert scaled == {"s": [(at, 1500.0)], "a": [(at, 40.0)]}
