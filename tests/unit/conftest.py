"""Unit tests need no services; AWS payloads come from tests/events/*.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(name: str) -> dict[str, Any]:
    """Return the AWS event stored as tests/events/NAME.json."""
    return dict(json.loads((EVENTS / f"{name}.json").read_text()))


@pytest.fixture
def event_loader() -> Any:
    """Give tests the event loader."""
    return load_event
