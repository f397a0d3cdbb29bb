"""`itinera dashboard render --run DIR` (and `--start/--end`): a run's window, its phases
marked on the graphs and listed on the page."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.image
import pytest

from cli.commands.dashboard import moment, window
from dashboards.drawing.phases import Phase, phases_of_run
from dashboards.drawing.render import render
from tests.unit.dashboard.test_dashboard_render import (
    ALARMS,
    HISTORY,
    PNG_SIGNATURE,
    FakeReader,
    TwoAzCatalog,
    five_dashboards,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _gameday(folder: Path, *, fault: list[float] | None) -> Path:
    """A game day's result.json: 40 s of load, a fault at 10 s, "during" until 25 s."""
    start = T0.timestamp()
    doc = {"experiment": "x", "load_window": [start, start + 40],
           "fault_window": [start + f for f in fault] if fault else None,
           "hypotheses": [{"phase": "during", "window": [start + 12, start + 25]},
                          {"phase": "after", "window": [start + 25, start + 40]}]}
    (folder / "result.json").write_text(json.dumps(doc))
    return folder


def test_a_game_day_has_before_fault_and_after(tmp_path: Path) -> None:
    """The fault phase runs from the fault's start to the end of the "during" windows (a
    stop-task lasts while the service recovers); without a fault, one phase."""
    phases = phases_of_run(_gameday(tmp_path, fault=[10, 10]))
    assert phases == [Phase("before", _at(0), _at(10)), Phase("fault", _at(10), _at(25)),
                      Phase("after", _at(25), _at(40))]
    assert [p.name for p in phases_of_run(_gameday(tmp_path, fault=None))] == [
        "load (no fault)"]


def test_a_load_run_is_one_phase_and_other_folders_are_refused(tmp_path: Path) -> None:
    """A load run's summary.json gives its window; a folder with neither file is refused."""
    (tmp_path / "summary.json").write_text(json.dumps({
        "scenario": "booking", "started_at": _at(0).isoformat(),
        "finished_at": _at(60).isoformat()}))
    assert phases_of_run(tmp_path) == [Phase("load: booking", _at(0), _at(60))]
    with pytest.raises(ValueError, match="neither"):
        phases_of_run(tmp_path / "nothing")


def _args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"run": None, "start": None, "end": None,
                                 "since": timedelta(minutes=15), **given})


def test_the_window_is_the_runs_with_a_period_of_margin_or_the_times_given(
        tmp_path: Path) -> None:
    """--run: the phases' span and one local CloudWatch period each side (at least 10 s),
    written into the run's folder; --start/--end as given; a start after the end refused."""
    run = _gameday(tmp_path, fault=[10, 10])
    start, end, phases, out = window(_args(run=run), scale=0.5)
    assert (start, end) == (_at(-30), _at(70)) and len(phases) == 3
    assert out == run / "dashboards"
    assert window(_args(run=run), scale=0.1)[0] == _at(-10)
    given = window(_args(start=moment("2026-01-01T11:00:00Z"),
                         end=moment("2026-01-01T11:30:00")), scale=0.1)
    assert given[:3] == (_at(-3600), _at(-1800), [])
    with pytest.raises(SystemExit, match="before --end"):
        window(_args(start=_at(10), end=_at(0)), scale=0.1)
    with pytest.raises(argparse.ArgumentTypeError):
        moment("yesterday")


def test_the_phases_are_drawn_and_listed(tmp_path: Path) -> None:
    """Rendered with phases, every widget is still a PNG and the page lists the phases."""
    phases = [Phase("before", _at(-600), _at(-300)), Phase("fault", _at(-300), _at(-120))]
    report = render(five_dashboards("booking-slo"), reader=FakeReader(),
                    catalog=TwoAzCatalog(), alarms=ALARMS, transitions=HISTORY,
                    start=_at(-900), end=T0, scale=0.1, out=tmp_path, source="a fake",
                    phases=phases)
    page = report.index.read_text()
    assert "The run's phases" in page and "<td>before</td>" in page and "<td>fault</td>" in page
    for widget in report.dashboards[0].widgets:
        png = tmp_path / widget.png
        assert png.read_bytes().startswith(PNG_SIGNATURE)
        assert matplotlib.image.imread(png).shape[0] > 50


def test_a_runs_scaling_activities_are_instants_after_its_phases(tmp_path: Path) -> None:
    """With the run's scaling.json, each activity is an instant named by its service and the
    count it set; the window still spans the load (an activity never narrows it)."""
    from loadtests.scaling import ServiceScaling, write

    (tmp_path / "summary.json").write_text(json.dumps({
        "scenario": "scale", "started_at": _at(0).isoformat(),
        "finished_at": _at(60).isoformat()}))
    write(tmp_path, {"gateway": ServiceScaling(service="gateway", activities=[
        {"at": _at(20).timestamp(), "description": "Setting desired count to 5.", "cause": "c",
         "status": "Successful", "details": {}}])})
    phases = phases_of_run(tmp_path)
    assert phases == [Phase("load: scale", _at(0), _at(60)),
                      Phase("gateway -> 5", _at(20), _at(20), instant=True)]
    start, end, _, _ = window(argparse.Namespace(run=tmp_path, start=None, end=None),
                              scale=0.1)
    assert start < _at(0) and end > _at(60)
