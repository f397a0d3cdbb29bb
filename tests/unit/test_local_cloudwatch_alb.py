"""HAProxy's stats and request log become ALB metrics with ALB's names and dimensions."""

from __future__ import annotations

from localaws.cloudwatch.alb import (
    AlbNames,
    AlbSampler,
    parse_request,
    response_times,
)
from localaws.cloudwatch.emf import Datum, dimensions_of

NAMES = {"gateway": AlbNames(load_balancer="app/lb/1", target_group="targetgroup/tg/2")}
LB_TG = {"LoadBalancer": "app/lb/1", "TargetGroup": "targetgroup/tg/2"}


def _row(svname: str, status: str = "UP", **counters: int) -> dict[str, str]:
    return {"pxname": "gateway", "svname": svname, "status": status,
            **{k: str(v) for k, v in counters.items()}}


def _value(data: list[Datum], name: str, dims: dict[str, str]) -> float | None:
    found = [d.values for d in data if d.name == name and d.dimensions == dimensions_of(dims)]
    assert len(found) <= 1
    return found[0][0] if found else None


def test_counters_are_deltas_per_az_and_in_total() -> None:
    """RequestCount and 5xx counts are what changed since the last sample, per AZ and summed."""
    sampler = AlbSampler(NAMES)
    sampler.sample("gateway", [_row("gateway-az-a", hrsp_2xx=5), _row("gateway-az-b",
                                                                       hrsp_2xx=3)], at=0)
    data = sampler.sample("gateway", [
        _row("gateway-az-a", hrsp_2xx=9, hrsp_5xx=1), _row("gateway-az-b", hrsp_2xx=3),
        _row("gateway-az-b.fail-open", status="no check", hrsp_2xx=2)], at=6)
    assert _value(data, "RequestCount", {**LB_TG, "AvailabilityZone": "az-a"}) == 5
    assert _value(data, "RequestCount", {**LB_TG, "AvailabilityZone": "az-b"}) == 2
    assert _value(data, "RequestCount", LB_TG) == 7
    assert _value(data, "RequestCount", {"LoadBalancer": "app/lb/1"}) == 7
    assert _value(data, "HTTPCode_Target_5XX_Count", LB_TG) == 1
    assert all(d.timestamp == 6 and d.namespace == "AWS/ApplicationELB" for d in data)


def test_host_counts_skip_fail_open_twins_and_per_target_divides_by_healthy() -> None:
    """Healthy/unhealthy count checked servers only; RequestCountPerTarget uses healthy ones."""
    data = AlbSampler(NAMES).sample("gateway", [
        _row("gateway-az-a", hrsp_2xx=4), _row("gateway-az-b", status="DOWN"),
        _row("gateway-az-a.fail-open", status="no check")], at=1)
    assert _value(data, "HealthyHostCount", {**LB_TG, "AvailabilityZone": "az-a"}) == 1
    assert _value(data, "UnHealthyHostCount", {**LB_TG, "AvailabilityZone": "az-b"}) == 1
    assert _value(data, "HealthyHostCount", LB_TG) == 1
    assert _value(data, "HealthyHostCount", {"LoadBalancer": "app/lb/1"}) is None
    assert _value(data, "RequestCountPerTarget", {"TargetGroup": "targetgroup/tg/2"}) == 4


def test_elb_5xx_is_frontend_minus_targets_and_resets_count_from_zero() -> None:
    """HAProxy's own 5xx are the frontend's minus the servers'; a counter reset is not negative."""
    sampler = AlbSampler(NAMES)
    sampler.sample("gateway", [_row("FRONTEND", status="OPEN", hrsp_5xx=10),
                               _row("gateway-az-a", hrsp_5xx=10)], at=0)
    data = sampler.sample("gateway", [_row("FRONTEND", status="OPEN", hrsp_5xx=13),
                                      _row("gateway-az-a", hrsp_5xx=11)], at=6)
    assert _value(data, "HTTPCode_ELB_5XX_Count", {"LoadBalancer": "app/lb/1"}) == 2
    restarted = sampler.sample("gateway", [_row("gateway-az-a", hrsp_2xx=2)], at=12)
    assert _value(restarted, "RequestCount", LB_TG) == 2


def test_connection_errors_and_unknown_balancers() -> None:
    """econ becomes TargetConnectionErrorCount; a balancer with no template names is skipped."""
    data = AlbSampler(NAMES).sample("gateway", [_row("gateway-az-b", econ=3)], at=0)
    assert _value(data, "TargetConnectionErrorCount",
                  {**LB_TG, "AvailabilityZone": "az-b"}) == 3
    assert AlbSampler(NAMES).sample("other", [_row("x-az-a", hrsp_2xx=1)], at=0) == []


def test_request_log_lines_give_one_response_time_per_answered_request() -> None:
    """Each answered request adds its %Tr in seconds; unanswered ones (-1) are left out."""
    lines = [b'{"balancer":"gateway","server":"gateway-az-a","status":200,"t_response_ms":12}',
             b'{"balancer":"gateway","server":"gateway-az-b","status":200,"t_response_ms":40}',
             b'{"balancer":"gateway","server":"<NOSRV>","status":503,"t_response_ms":-1}',
             b'{"balancer":"gateway","server":"gateway-az-a","status":502,"t_response_ms":-1}',
             b"[NOTICE] haproxy started", b'{"level":"info"}']
    requests = [r for r in map(parse_request, lines) if r is not None]
    assert len(requests) == 4
    data = response_times(requests, NAMES, at=5)
    assert _value(data, "TargetResponseTime", {**LB_TG, "AvailabilityZone": "az-a"}) == 0.012
    (total,) = [d for d in data if d.dimensions == dimensions_of(LB_TG)]
    assert sorted(total.values) == [0.012, 0.04] and total.unit == "Seconds"
