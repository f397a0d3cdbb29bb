"""The route-table row every service uses, and the one pattern per path parameter."""

from __future__ import annotations

import pytest

from itinera.routes import PATH_PATTERNS, aiohttp_path


def test_a_template_becomes_an_aiohttp_path_with_each_pattern() -> None:
    """Each `{name}` admits only its parameter's pattern in aiohttp's syntax."""
    assert aiohttp_path("/internal/holds/{hold_id}/pin") == \
        f"/internal/holds/{{hold_id:{PATH_PATTERNS['hold_id']}}}/pin"
    assert aiohttp_path("/v1/flights") == "/v1/flights"


def test_a_parameter_without_a_pattern_fails_when_routes_are_built() -> None:
    """A new parameter needs its pattern first: the app does not start without one."""
    with pytest.raises(KeyError, match="nickname"):
        aiohttp_path("/v1/travellers/{nickname}")
