"""The fault proxies' fault specifications: what the control API accepts and refuses."""

from __future__ import annotations

import pytest

from localaws.faults import Fault, FaultError


def test_a_cut_with_a_duration_is_accepted() -> None:
    """A cut for 20 s (a local Aurora failover) parses with its duration."""
    fault = Fault.from_json({"mode": "cut", "duration_s": 20})
    assert (fault.mode, fault.duration_s) == ("cut", 20)


@pytest.mark.parametrize(("body", "why"), [
    ({"mode": "blackhole"}, "mode must be one of"),
    ({"mode": "delay"}, "delay needs delay_ms"),
    ({"mode": "delay", "delay_ms": 10, "jitter_ms": 20}, "delay_ms >= jitter_ms"),
    ({"mode": "drop"}, "drop needs probability"),
    ({"mode": "drop", "probability": 1.5}, "probability must be within"),
    ({"mode": "cut", "duration_s": 0}, "duration_s must be positive"),
    ({"mode": "cut", "seconds": 5}, "unknown fields: seconds"),
])
def test_malformed_faults_are_refused_with_the_reason(body: dict[str, object], why: str) -> None:
    """Each malformed specification is refused, saying what is wrong."""
    with pytest.raises(FaultError, match=why):
        Fault.from_json(body)


def test_a_fault_reports_itself_as_it_was_given() -> None:
    """as_json gives back the fields the control API was sent, with defaults filled in."""
    fault = Fault.from_json({"mode": "drop", "probability": 0.1})
    assert Fault.from_json(fault.as_json()) == fault
