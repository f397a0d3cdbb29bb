"""The contract fuzzing harness writes a config schemathesis can read and reads its reports."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from tests.e2e import contract

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="schemathesis">
  <testcase name="GET /health" time="0.1" />
  <testcase name="POST /v1/bookings" time="0.5">
    <failure type="failure" message="ST101">1. Test Case ID: EpTR3T

- ST101 Server error

- ST103 Undocumented status code

Reproduce with:

    curl -X POST -d '&#255;' http://127.0.0.1:8080/v1/bookings</failure>
  </testcase>
</testsuite></testsuites>
"""


def test_the_effective_config_is_the_policy_plus_bound_dictionaries() -> None:
    """The policy's settings survive, and each parameter key is bound to its dictionary."""
    text = contract.effective_config(contract.POLICY.read_text(), [
        contract.Dictionary("flights", ["12", "13"], ["path.flight_id",
                                                      "body.items[*].flight_id"]),
        contract.Dictionary("cards", ["4242424242424242"], ["body.payment.card_number"],
                            probability=0.5)])
    config = tomllib.loads(text)
    assert config["seed"] == tomllib.loads(contract.POLICY.read_text())["seed"]
    assert config["dictionaries"]["flights"] == {"values": ["12", "13"]}
    assert config["parameters"]["body.items[*].flight_id"] == {"dictionary": "flights",
                                                               "probability": 0.8}
    assert config["parameters"]["body.payment.card_number"]["probability"] == 0.5


def test_findings_name_the_operation_the_checks_and_a_curl_line(tmp_path: Path) -> None:
    """One line per failure: operation, every check that failed, the reproduction."""
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    assert contract.findings(junit) == [
        "POST /v1/bookings: ST101 Server error; ST103 Undocumented status code\n"
        "      curl -X POST -d '\u00ff' http://127.0.0.1:8080/v1/bookings"]
    assert contract.findings(tmp_path / "missing.xml") == []


def test_applied_links_are_read_from_stateful_steps_that_followed_one(tmp_path: Path) -> None:
    """Only steps reached through a link count, as (source, target) operations."""
    def scenario(cases: dict[str, object]) -> str:
        return json.dumps({"ScenarioFinished": {"phase": "stateful",
                                                "recorder": {"label": "x", "cases": cases}}})

    followed = {"value": {"method": "POST", "path": "/v1/bookings"},
                "is_transition_applied": True,
                "transition": {"id": "POST /v1/holds -> [201] BookHold -> POST /v1/bookings"}}
    fresh = {"value": {"method": "POST", "path": "/v1/holds"}, "is_transition_applied": False}
    events = tmp_path / "events.ndjson"
    events.write_text("\n".join([
        json.dumps({"Initialize": {}}), scenario({"a": fresh, "b": followed}),
        json.dumps({"ScenarioFinished": {"phase": "stateful", "recorder": {"label": "y"}}}),
    ]) + "\n")
    assert contract.applied_links(events) == {("POST /v1/holds", "POST /v1/bookings")}
