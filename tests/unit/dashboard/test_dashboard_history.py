"""The local alarm evaluator's history file becomes the page's alarm transitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from dashboards.drawing.source import local_history


def test_history_lines_become_transitions(tmp_path: Path) -> None:
    """Each line is one change; a first line without an old state reads as from nothing."""
    run = tmp_path / "run"
    run.mkdir()
    lines = [{"alarm": "a", "old": None, "new": "INSUFFICIENT_DATA",
              "time": "2026-01-01T00:00:00.000+00:00", "reason": "created"},
             {"alarm": "a", "old": "INSUFFICIENT_DATA", "new": "ALARM",
              "time": "2026-01-01T00:00:06.500+00:00", "reason": "1 of 1 over 0"}]
    (run / "alarm-history.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    first, second = local_history(tmp_path)
    assert (first.old, first.new) == ("", "INSUFFICIENT_DATA")
    assert (second.old, second.new, second.reason) == ("INSUFFICIENT_DATA", "ALARM",
                                                       "1 of 1 over 0")
    assert second.time == datetime(2026, 1, 1, 0, 0, 6, 500000, tzinfo=UTC)


def test_no_history_file_means_no_transitions(tmp_path: Path) -> None:
    """Without the local evaluator (or before it wrote), there is nothing to annotate."""
    assert local_history(tmp_path) == []
