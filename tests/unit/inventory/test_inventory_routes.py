"""Inventory's route table: who may call each route, and path parameters held to patterns."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from inventory.callers import INTERNAL_PREFIX, InventoryRoute, routes_key
from inventory.routes import ROUTES, setup_routes


def _app() -> web.Application:
    app = web.Application()
    setup_routes(app)
    return app


def test_internal_routes_name_their_callers_and_public_reads_none() -> None:
    """Every /internal/ route serves named services; the /v1 reads take no credential."""
    for route in ROUTES:
        internal = route.path.startswith(INTERNAL_PREFIX)
        assert bool(route.callers) == internal, route.path


async def test_a_matched_request_finds_its_row_of_the_table() -> None:
    """The middleware reads who may call from the row the router matched."""
    app = _app()
    request = make_mocked_request("POST", f"/internal/holds/{'a' * 32}/pin", app=app)
    match = await app.router.resolve(request)
    row = app[routes_key][match.route]
    assert isinstance(row, InventoryRoute) and row.callers == frozenset({"checkout"})


@pytest.mark.parametrize("path", [
    "/internal/holds/not-a-hold",
    f"/internal/holds/{'A' * 32}",
    "/internal/admin/flights/1/cabins/first",
    "/internal/admin/hotels/1/room-types/Suite!/nights",
    "/v1/flights/0",
    "/v1/hotels/..%2Finternal",
])
async def test_a_parameter_outside_its_pattern_matches_no_route(path: str) -> None:
    """Ids, cabins and room codes are held to the patterns the gateway's routes use."""
    method = "PATCH" if "/admin/" in path else "GET"
    app = _app()
    match = await app.router.resolve(make_mocked_request(method, path, app=app))
    assert match.http_exception is not None and match.http_exception.status == 404
