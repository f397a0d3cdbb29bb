"""The gateway keeps the contract its OpenAPI document states, under schemathesis fuzzing."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from typing import Any

import aiohttp
import pytest

from tests.e2e import contract
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import find_flight, wait_for_status

# The booking path the stateful phase must walk, as (source, target) operations. Each needs
# an OpenAPI link in the document (tests/contract/README.md shows them).
BOOKING_PATH_LINKS = {
    ("POST /v1/holds", "GET /v1/holds/{hold_id}"),
    ("POST /v1/holds", "DELETE /v1/holds/{hold_id}"),
    ("POST /v1/holds", "POST /v1/bookings"),
    ("POST /v1/bookings", "GET /v1/bookings/{booking_id}"),
    ("POST /v1/bookings", "POST /v1/bookings/{booking_id}/cancel"),
}
@pytest.fixture(scope="module")
def schemathesis_cli() -> None:
    """Require the schemathesis virtualenv that `make test` builds."""
    if not contract.SCHEMATHESIS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{contract.SCHEMATHESIS} is missing; `make test` creates it")
        pytest.skip(f"{contract.SCHEMATHESIS} is missing; run `make test` once to create it")


@pytest.fixture(scope="module")
def config(stack: RunningStack, schemathesis_cli: None) -> str:
    """The checked-in policy plus real ids, airports and dates from the stack's catalog."""
    dictionaries = contract.catalog_dictionaries(stack.url)
    empty = [d.name for d in dictionaries if not d.values]
    assert not empty, f"the catalog gave no values for {empty}"
    return contract.effective_config(contract.POLICY.read_text(), dictionaries)


def _document(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/v1/openapi.json", timeout=10) as resp:
        return dict(json.load(resp))


def _links(document: dict[str, Any]) -> set[tuple[str, str]]:
    """Return (source, target) operations of every link the document declares."""
    by_id = {op["operationId"]: f"{method.upper()} {path}"
             for path, ops in document["paths"].items() for method, op in ops.items()
             if "operationId" in op}
    found = set()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            for response in op.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    if "operationId" in link:
                        target = by_id.get(link["operationId"], link["operationId"])
                    else:  # "#/paths/~1v1~1holds~1{hold_id}/get"
                        ref_path, _, ref_method = link.get("operationRef", "").rpartition("/")
                        ref = ref_path.removeprefix("#/paths/").replace("~1", "/")
                        target = f"{ref_method.upper()} {ref.replace('~0', '~')}"
                    found.add((f"{method.upper()} {path}", target))
    return found


def test_the_document_links_hold_and_booking_for_stateful_testing(stack: RunningStack) -> None:
    """The document declares the links that take a hold to a booking and its reads."""
    missing = BOOKING_PATH_LINKS - _links(_document(stack.url))
    assert not missing, ("OpenAPI links missing (see tests/contract/README.md): "
                         + ", ".join(f"{s} -> {t}" for s, t in sorted(missing)))


def _resolve(expression: Any, body: Any) -> Any:
    """Resolve `$response.body#/json/pointer` expressions inside a link's value."""
    if isinstance(expression, dict):
        return {k: _resolve(v, body) for k, v in expression.items()}
    if isinstance(expression, list):
        return [_resolve(v, body) for v in expression]
    if isinstance(expression, str) and expression.startswith("$response.body#"):
        value = body
        for part in expression.removeprefix("$response.body#/").split("/"):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value
    return expression


async def test_the_documents_links_walk_from_a_search_to_a_booking(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Following the document's own links, as a client would: a search's first flight is
    held, the hold booked, the booking read and cancelled once confirmed."""
    document = _document(stack.url)
    by_id = {op["operationId"]: (method.upper(), path)
             for path, ops in document["paths"].items() for method, op in ops.items()}
    token = stack.token("link-walker")
    headers = {"Authorization": f"Bearer {token}"}

    def link(operation: str, status: str, name: str) -> dict[str, Any]:
        method, path = by_id[operation]
        return dict(document["paths"][path][method.lower()]["responses"][status]["links"][name])

    async def follow(step: dict[str, Any], source: Any, **extra: Any) -> Any:
        method, path = by_id[step["operationId"]]
        for name, value in _resolve(step.get("parameters", {}), source).items():
            path = path.replace(f"{{{name.removeprefix('path.')}}}", value)
        body = {**_resolve(step.get("requestBody", {}), source), **extra} or None
        async with http.request(method, stack.url + path, json=body, headers={
                **headers, "Idempotency-Key": uuid.uuid4().hex}) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    flight = await find_flight(http, stack.url, seats=1)
    day = flight["departure_local"][:10]
    async with http.get(f"{stack.url}/v1/flights", params={
            "origin": flight["origin"], "destination": flight["destination"], "date": day},
            headers=headers) as resp:
        search = await resp.json()
    search["items"] = [f for f in search["items"] if f["id"] == flight["id"]]
    hold = await follow(link("searchFlights", "200", "HoldFirstFlight"), search)
    assert hold["items"][0]["flight_id"] == flight["id"]
    assert (await follow(link("createHold", "201", "GetHold"), hold))["id"] == hold["id"]
    booking = await follow(link("createHold", "201", "BookHold"), hold,
                           payment={"card_number": "4242424242424242"},
                           contact={"email": "walker@example.com"})
    assert booking["hold_id"] == hold["id"]
    read = link("createBooking", "202", "GetBooking")
    confirmed = await wait_for_status(http, stack.url, token, booking["booking_id"])
    assert confirmed["status"] == "confirmed"
    assert (await follow(read, booking))["booking_id"] == booking["booking_id"]
    cancelled = await follow(link("createBooking", "202", "CancelBooking"), booking)
    assert cancelled["status"] in ("cancelling", "cancelled")


def test_an_anonymous_caller_gets_only_documented_answers(stack: RunningStack,
                                                          config: str) -> None:
    """Fuzzing every operation without a token finds no 5xx and no undocumented answer."""
    result = contract.run("anonymous", stack.url, config)
    assert result.code == 0 and not result.timed_out, contract.explain(result)


def test_a_traveller_gets_only_documented_answers_along_the_booking_path(
        stack: RunningStack, config: str) -> None:
    """With a traveller's token every phase passes, and the stateful phase holds and books."""
    token = stack.token("contract-fuzzer")
    result = contract.run("traveller", stack.url, config,
                          headers={"Authorization": f"Bearer {token}"})
    assert result.code == 0 and not result.timed_out, contract.explain(result)
    # Which links a bounded random walk follows depends on what it draws; that the links
    # themselves lead from search to a booking is the deterministic test above.
    print("links followed:", sorted(contract.applied_links(result.ndjson)))
