"""AWS/ApplicationELB metrics from the local load balancers (HAProxy), as an ALB publishes them.

Counters come from HAProxy's `show stat` (runtime socket) once per local period, as the
change since the previous sample, per server and summed per AZ (a server's AZ is the end of
its name, `az_of`): RequestCount (answers from targets: ALB counts only requests for which
it chose a target), HTTPCode_Target_{2,3,4,5}XX_Count, TargetConnectionErrorCount (`econ`),
HTTPCode_ELB_5XX_Count (the frontend's 5xx minus the servers': the ones HAProxy answered
itself) and RequestCountPerTarget (RequestCount / healthy targets, all targets when none is
healthy). HealthyHostCount and UnHealthyHostCount are the counts at sample time. A counter
that goes down (HAProxy or a server restarted) counts from zero again; counters are
published only when they moved, as ALB sends no datapoint for a period without traffic.

TargetResponseTime has one value per request, so percentiles are real: HAProxy logs each
request as one JSON line (haproxy.py `_log_format`) with the server and `t_response_ms`
(%Tr: from the request sent to the target until its response headers arrived, which is what
ALB measures; -1 when no response came, and ALB leaves those out too), timestamped when the
agent reads the line (a few hundred ms after the request ended).

Dimension sets: {LoadBalancer, TargetGroup, AvailabilityZone}, {LoadBalancer, TargetGroup}
and {LoadBalancer}; HTTPCode_ELB_5XX_Count only per {LoadBalancer}; RequestCountPerTarget
per {LoadBalancer, TargetGroup} and {TargetGroup}. The names are elb/names.py's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import orjson

from localaws.cloudwatch.emf import Datum, dimensions_of
from localaws.config import AZS
from localaws.elb.haproxy import FAIL_OPEN_SUFFIX
from localaws.elb.metrics import az_of, health_of
from localaws.elb.model import target_groups
from localaws.elb.names import load_balancer_of
from localaws.resources import Deployed

NAMESPACE = "AWS/ApplicationELB"
RESPONSES = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
COUNTERS = (*RESPONSES, "econ")
PROXY_ROWS = ("FRONTEND", "BACKEND")


@dataclass(frozen=True)
class AlbNames:
    """The dimension values of one local balancer: its ALB's and its target group's."""

    load_balancer: str
    target_group: str


def alb_names(deployed: Deployed) -> dict[str, AlbNames]:
    """Map each local balancer (named after its service) to its ALB and target group names."""
    out = {}
    for service, group in target_groups(deployed.template).items():
        balancer = load_balancer_of(deployed.template, group.logical_id)
        out[service] = AlbNames(
            load_balancer=deployed.get_att(balancer, "LoadBalancerFullName"),
            target_group=deployed.get_att(group.logical_id, "TargetGroupFullName"))
    return out


def _sets(names: AlbNames, az: str | None) -> list[dict[str, str]]:
    lb, tg = {"LoadBalancer": names.load_balancer}, {"TargetGroup": names.target_group}
    if az is not None:
        return [{**lb, **tg, "AvailabilityZone": az}]
    return [{**lb, **tg}, lb]


def _datum(name: str, dims: dict[str, str], at: float, values: list[float],
           unit: str = "Count") -> Datum:
    return Datum(namespace=NAMESPACE, name=name, dimensions=dimensions_of(dims), timestamp=at,
                 values=tuple(values), unit=unit)


class AlbSampler:
    """Turn successive `show stat` samples of each balancer into period metrics."""

    def __init__(self, names: dict[str, AlbNames]) -> None:
        self.names = names
        # (balancer, proxy or server) -> counters at the previous sample; absent means zero:
        # balancers start after the agent, servers added at run time start at zero.
        self.previous: dict[tuple[str, str], dict[str, int]] = {}

    def _delta(self, balancer: str, row: dict[str, str]) -> dict[str, int]:
        now = {key: int(row.get(key) or 0) for key in COUNTERS}
        before = self.previous.get((balancer, row["svname"]), {})
        self.previous[(balancer, row["svname"])] = now
        return {key: now[key] - before.get(key, 0) if now[key] >= before.get(key, 0)
                else now[key] for key in COUNTERS}

    def sample(self, balancer: str, rows: list[dict[str, str]], at: float) -> list[Datum]:
        """Return the metrics of *balancer* since its previous sample."""
        names = self.names.get(balancer)
        if names is None:
            return []
        per_az: dict[str, dict[str, int]] = {az: defaultdict(int) for az in AZS}
        frontend_5xx = 0
        for row in rows:
            if row.get("pxname") != balancer:
                continue
            if row["svname"] == "FRONTEND":
                frontend_5xx = self._delta(balancer, row)["hrsp_5xx"]
                continue
            if row["svname"] in PROXY_ROWS:
                continue
            az = az_of(row["svname"])
            if az is None:
                continue
            figures = per_az.setdefault(az, defaultdict(int))
            for key, value in self._delta(balancer, row).items():
                figures[key] += value
            if not row["svname"].endswith(FAIL_OPEN_SUFFIX):
                health = health_of(row.get("status", ""))
                figures["healthy"] += health == "healthy"
                figures["unhealthy"] += health == "unhealthy"
        return self._metrics(names, per_az, frontend_5xx, at)

    def _metrics(self, names: AlbNames, per_az: dict[str, dict[str, int]], frontend_5xx: int,
                 at: float) -> list[Datum]:
        total: dict[str, int] = defaultdict(int)
        for figures in per_az.values():
            for key, value in figures.items():
                total[key] += value
        out = []
        for az, figures in [*per_az.items(), (None, total)]:
            for dims in _sets(names, az):
                out += _figures(figures, dims, at)
        requests = sum(total[key] for key in RESPONSES)
        targets = total["healthy"] or total["healthy"] + total["unhealthy"]
        if requests and targets:
            for dims in ({"LoadBalancer": names.load_balancer,
                          "TargetGroup": names.target_group},
                         {"TargetGroup": names.target_group}):
                out.append(_datum("RequestCountPerTarget", dims, at, [requests / targets]))
        elb_5xx = frontend_5xx - total["hrsp_5xx"]
        if elb_5xx > 0:
            out.append(_datum("HTTPCode_ELB_5XX_Count",
                              {"LoadBalancer": names.load_balancer}, at, [elb_5xx]))
        return out


def _figures(figures: dict[str, int], dims: dict[str, str], at: float) -> list[Datum]:
    out = []
    if "TargetGroup" in dims:  # host counts belong to a target group
        out += [_datum("HealthyHostCount", dims, at, [figures["healthy"]]),
                _datum("UnHealthyHostCount", dims, at, [figures["unhealthy"]])]
    counters = {"RequestCount": sum(figures[key] for key in RESPONSES),
                "HTTPCode_Target_2XX_Count": figures["hrsp_2xx"],
                "HTTPCode_Target_3XX_Count": figures["hrsp_3xx"],
                "HTTPCode_Target_4XX_Count": figures["hrsp_4xx"],
                "HTTPCode_Target_5XX_Count": figures["hrsp_5xx"],
                "TargetConnectionErrorCount": figures["econ"]}
    out += [_datum(name, dims, at, [value]) for name, value in counters.items() if value > 0]
    return out


@dataclass(frozen=True)
class Request:
    """One request line of a balancer's log."""

    balancer: str
    server: str
    status: int
    response_ms: int


def parse_request(line: bytes) -> Request | None:
    """Return the request one HAProxy log line describes, or None for any other line."""
    if not line.startswith(b'{"balancer"'):
        return None
    try:
        fields = orjson.loads(line)
        return Request(balancer=str(fields["balancer"]), server=str(fields["server"]),
                       status=int(fields["status"]), response_ms=int(fields["t_response_ms"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def response_times(requests: list[Request], names: dict[str, AlbNames], at: float
                   ) -> list[Datum]:
    """Return TargetResponseTime (seconds, one value per answered request) per dimension set."""
    values: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for request in requests:
        az = az_of(request.server)
        if request.response_ms < 0 or az is None or request.balancer not in names:
            continue
        values[(request.balancer, az)].append(request.response_ms / 1000)
        values[(request.balancer, None)].append(request.response_ms / 1000)
    out = []
    for (balancer, az), seconds in values.items():
        out += [_datum("TargetResponseTime", dims, at, seconds, unit="Seconds")
                for dims in _sets(names[balancer], az)]
    return out
