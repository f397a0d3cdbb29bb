"""What one render wrote: each dashboard's widgets as drawn, the alarms, and the index page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dashboards.drawing.phases import Phase
from dashboards.drawing.source import AlarmState, Transition


@dataclass(frozen=True)
class RenderedWidget:
    """One widget as drawn: its picture, whether it had data, and what went wrong."""

    title: str
    kind: str
    png: str  # relative to the output folder
    has_data: bool
    series: list[tuple[str, int]] = field(default_factory=list)  # label, points
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedDashboard:
    """One dashboard's widgets in body order."""

    name: str
    widgets: list[RenderedWidget]
    unresolved: list[str]
    picture: str  # the composed dashboard.png, relative to the output folder


@dataclass(frozen=True)
class Report:
    """Everything one render wrote, with the index page's path."""

    dashboards: list[RenderedDashboard]
    alarms: list[AlarmState]
    transitions: list[Transition]
    start: datetime
    end: datetime
    scale: float
    index: Path
    # The run's phases when rendered for one (`--run`), marked on every graph.
    phases: list[Phase] = field(default_factory=list)
