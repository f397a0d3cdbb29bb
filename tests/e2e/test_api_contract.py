"""The gateway keeps the contract its OpenAPI document states, under schemathesis fuzzing."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest

from tests.e2e import contract
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

# The booking path the stateful phase must walk, as (source, target) operations. Each needs
# an OpenAPI link in the document (tests/contract/README.md shows them).
BOOKING_PATH_LINKS = {
    ("POST /v1/holds", "GET /v1/holds/{hold_id}"),
    ("POST /v1/holds", "DELETE /v1/holds/{hold_id}"),
    ("POST /v1/holds", "POST /v1/bookings"),
    ("POST /v1/bookings", "GET /v1/bookings/{booking_id}"),
    ("POST /v1/bookings", "POST /v1/bookings/{booking_id}/cancel"),
}
# Search, hold, book, then read or cancel the booking: a bounded run must follow at least one
# link of each step (which of several it draws is up to the seed).
BOOKING_PATH_STEPS = [
    {("GET /v1/flights", "POST /v1/holds"), ("GET /v1/flights/{flight_id}", "POST /v1/holds")},
    {("POST /v1/holds", "POST /v1/bookings")},
    {("POST /v1/bookings", "GET /v1/bookings/{booking_id}"),
     ("POST /v1/bookings", "POST /v1/bookings/{booking_id}/cancel")},
]


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
    followed = contract.applied_links(result.ndjson)
    missed = [" or ".join(f"{s} -> {t}" for s, t in sorted(step))
              for step in BOOKING_PATH_STEPS if not step & followed]
    assert not missed, f"the stateful phase never followed {'; nor '.join(missed)}"
