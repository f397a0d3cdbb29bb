"""Turn dashboards/dashboards.yaml into CloudWatch dashboard bodies and template resources."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFINITIONS = Path(__file__).resolve().parent / "dashboards.yaml"
GRID_WIDTH = 24  # CloudWatch's dashboard grid is 24 columns wide
# The metric widget properties a definition may set; the rest is laid out here.
METRIC_PROPERTIES = {"metrics", "stat", "period", "view", "stacked", "yAxis", "annotations",
                     "legend", "liveData", "setPeriodToTimeRange"}
VIEWS = {"timeSeries", "bar", "singleValue", "pie", "gauge"}


@dataclass(frozen=True, kw_only=True)
class Widget:
    """One widget: a metric graph or a list of alarms."""

    title: str
    kind: str
    width: int
    height: int
    properties: dict[str, Any]
    alarms: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Dashboard:
    """One dashboard: its name's slug, title and widgets in reading order."""

    slug: str
    title: str
    widgets: tuple[Widget, ...]

    @property
    def logical_id(self) -> str:
        """Return the template's logical id: `multi-az` gives `MultiAzDashboard`."""
        return "".join(part.capitalize() for part in self.slug.split("-")) + "Dashboard"


def _widget(spec: dict[str, Any], where: str) -> Widget:
    spec = dict(spec)
    title, kind = spec.pop("title"), spec.pop("type", "metric")
    width, height = int(spec.pop("width", 8)), int(spec.pop("height", 6))
    if not 1 <= width <= GRID_WIDTH:
        raise ValueError(f"{where}: width must be 1 to {GRID_WIDTH}")
    if kind == "alarm":
        alarms = tuple(spec.pop("alarms"))
        if spec or not alarms:
            raise ValueError(f"{where}: an alarm widget has a title, a size and alarms only")
        return Widget(title=title, kind=kind, width=width, height=height, properties={},
                      alarms=alarms)
    if kind != "metric":
        raise ValueError(f"{where}: unknown widget type {kind}")
    unknown = set(spec) - METRIC_PROPERTIES
    if unknown:
        raise ValueError(f"{where}: unknown properties {sorted(unknown)}")
    if not spec.get("metrics"):
        raise ValueError(f"{where}: a metric widget needs metrics")
    if spec.get("view", "timeSeries") not in VIEWS:
        raise ValueError(f"{where}: unknown view {spec['view']}")
    return Widget(title=title, kind=kind, width=width, height=height, properties=spec)


def load(path: Path = DEFINITIONS, *, alarm_names: set[str] | None = None) -> list[Dashboard]:
    """Read and validate the dashboards; alarm widgets must name alarms in *alarm_names*."""
    raw = yaml.safe_load(path.read_text())
    dashboards = []
    for spec in raw["dashboards"]:
        widgets = tuple(_widget(w, f"{spec['slug']}/{w.get('title')}") for w in spec["widgets"])
        dashboards.append(Dashboard(slug=spec["slug"], title=spec["title"], widgets=widgets))
    slugs = [d.slug for d in dashboards]
    if len(set(slugs)) != len(slugs):
        raise ValueError("dashboard slugs must be unique")
    if alarm_names is not None:
        for dashboard in dashboards:
            for widget in dashboard.widgets:
                unknown = set(widget.alarms) - alarm_names
                if unknown:
                    raise ValueError(f"{dashboard.slug}/{widget.title}: unknown alarms "
                                     f"{sorted(unknown)}")
    return dashboards


def body(dashboard: Dashboard, alarm_ids: dict[str, str]) -> dict[str, Any]:
    """Return the dashboard's CloudWatch body, widgets laid out row by row, Sub strings kept."""
    widgets: list[dict[str, Any]] = []
    x = y = row_height = 0
    for widget in dashboard.widgets:
        if x + widget.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        place = {"x": x, "y": y, "width": widget.width, "height": widget.height}
        if widget.kind == "alarm":
            widgets.append({"type": "alarm", **place, "properties": {
                "title": widget.title,
                "alarms": [f"${{{alarm_ids[name]}.Arn}}" for name in widget.alarms]}})
        else:
            widgets.append({"type": "metric", **place, "properties": {
                "title": widget.title, "region": "${AWS::Region}", "view": "timeSeries",
                **widget.properties}})
        x += widget.width
        row_height = max(row_height, widget.height)
    return {"widgets": widgets}


def as_json(value: dict[str, Any]) -> str:
    """Return a body as indented JSON with each metric row on one line, as the console shows it."""
    rows: list[str] = []

    def mark(widget: dict[str, Any]) -> dict[str, Any]:
        props = widget["properties"]
        if "metrics" not in props:
            return widget
        marked = []
        for row in props["metrics"]:
            rows.append(json.dumps(row))
            marked.append(f"@row{len(rows) - 1}@")
        return {**widget, "properties": {**props, "metrics": marked}}

    text = json.dumps({"widgets": [mark(w) for w in value["widgets"]]}, indent=2)
    for index, row in enumerate(rows):
        text = text.replace(f'"@row{index}@"', row, 1)
    return text


def resources(dashboards: list[Dashboard], alarm_ids: dict[str, str]) -> list[str]:
    """Return the template lines of the AWS::CloudWatch::Dashboard resources."""
    lines: list[str] = []
    for dashboard in dashboards:
        text = as_json(body(dashboard, alarm_ids))
        lines += [
            "",
            f"  {dashboard.logical_id}:",
            "    Type: AWS::CloudWatch::Dashboard",
            "    Properties:",
            f'      DashboardName: !Sub "itinera-${{Stage}}-{dashboard.slug}"',
            "      DashboardBody: !Sub |",
            *[f"        {line}" for line in text.splitlines()],
        ]
    return lines
