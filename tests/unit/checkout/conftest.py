"""Fixtures for the checkout handlers' unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checkout.runtime import shutdown
from tests.unit.checkout.api_calls import RecordingService, use_service


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingService]:
    """A recording checkout service behind the API handler; the environment's loop closed after."""
    yield use_service(monkeypatch)
    shutdown()
