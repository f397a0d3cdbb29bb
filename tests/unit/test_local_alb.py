"""The local load balancer's target health follows ALB's thresholds and routing."""

from __future__ import annotations

from itinera.localstack.alb import Target, TargetGroup


def _group() -> TargetGroup:
    return TargetGroup([Target(az="az-a", url="http://a"), Target(az="az-b", url="http://b")])


def test_targets_serve_only_after_enough_passing_checks() -> None:
    """A new target gets traffic after two passing checks, not before."""
    group = _group()
    a = group.targets[0]
    assert group.pick() is None
    group.record(a, True)
    assert group.pick() is None
    group.record(a, True)
    assert group.pick() is a


def test_requests_spread_over_healthy_targets_and_skip_unhealthy_ones() -> None:
    """Healthy targets take turns; after two failed checks a target gets nothing."""
    group = _group()
    a, b = group.targets
    for target in (a, b):
        group.record(target, True)
        group.record(target, True)
    assert {group.pick().az for _ in range(4)} == {"az-a", "az-b"}  # type: ignore[union-attr]
    group.record(a, False)
    assert a.healthy  # one failure is not enough
    group.record(a, False)
    assert [group.pick() for _ in range(3)] == [b, b, b]


def test_a_failure_resets_the_passes_needed_to_come_back() -> None:
    """Passes must be consecutive: a failure in between starts the count again."""
    group = _group()
    a = group.targets[0]
    group.record(a, True)
    group.record(a, False)
    group.record(a, True)
    assert not a.healthy
    group.record(a, True)
    assert a.healthy
