"""The FIS Lambda extension's stand-in: which invocations fail or wait, and for how long."""

from __future__ import annotations

import itertools

import pytest

from localaws.lambda_faults import (
    DELAY,
    ERROR,
    Decision,
    Fault,
    decide,
    location,
    parse_faults,
    settings_object,
)

NOW = 1_800_000_000.0


def test_settings_round_trip_and_unknown_actions_are_refused() -> None:
    """What the executor writes is what the host reads; a typo in an action fails loudly."""
    faults = [Fault(action=ERROR, percentage=50, until=NOW + 60, prevent_execution=False),
              Fault(action=DELAY, percentage=100, until=NOW + 60, delay_ms=800)]
    assert parse_faults(settings_object(faults)) == faults
    with pytest.raises(ValueError, match="unknown"):
        parse_faults(b'{"faults": [{"action": "invocation-eror", "until": 1}]}')


def test_each_fault_applies_to_its_share_of_invocations_only_while_active() -> None:
    """50% fails about half of the rolls; an expired fault does nothing."""
    faults = [Fault(action=ERROR, percentage=50, until=NOW + 60)]
    rolls = itertools.cycle([0.1, 0.6])  # below and above the 50% line, alternately
    decisions = [decide(faults, now=NOW, roll=lambda: next(rolls)) for _ in range(10)]
    assert [d.fail for d in decisions] == [True, False] * 5
    assert decide(faults, now=NOW + 61, roll=lambda: 0.0) == Decision()


def test_prevent_execution_decides_whether_the_handler_still_runs() -> None:
    """preventExecution true: the handler never runs; false: it runs and the call still fails."""
    prevented = decide([Fault(action=ERROR, percentage=100, until=NOW + 1)], now=NOW)
    assert prevented.fail and not prevented.run_handler
    after = decide([Fault(action=ERROR, percentage=100, until=NOW + 1,
                          prevent_execution=False)], now=NOW)
    assert after.fail and after.run_handler


def test_delays_combine_with_errors_and_the_longest_delay_wins() -> None:
    """Two delay faults and an error: the invocation waits the longer delay, then fails."""
    faults = [Fault(action=DELAY, percentage=100, until=NOW + 1, delay_ms=200),
              Fault(action=DELAY, percentage=100, until=NOW + 1, delay_ms=900),
              Fault(action=ERROR, percentage=100, until=NOW + 1)]
    assert decide(faults, now=NOW) == Decision(delay_ms=900, fail=True, run_handler=False)


def test_the_settings_object_sits_under_the_configured_location() -> None:
    """An S3 ARN or URL prefix names the bucket and the folder; the function names the file."""
    assert location("arn:aws:s3:::itinera-dev-fis-config-1/FisConfigs/", "worker") == (
        "itinera-dev-fis-config-1", "FisConfigs/worker.json")
    assert location("s3://bucket/", "api") == ("bucket", "api.json")
