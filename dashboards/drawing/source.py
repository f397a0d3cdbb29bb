"""Where the renderer reads dashboards and alarms: the deployed template locally, or AWS."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localaws.config import AZS
from localaws.resources import ACCOUNT_ID, Deployed
from localaws.template import TemplateError

_PLACEHOLDER = re.compile(r"\$\{([^}!]+)\}")
DASHBOARD = "AWS::CloudWatch::Dashboard"
ALARMS = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"}
# Where a resource the emulator does not hold keeps the name it has on AWS.
NAME_PROPERTIES = ("FunctionName", "ClusterName", "ServiceName", "DBClusterIdentifier",
                   "ReplicationGroupId", "Name")


@dataclass(frozen=True)
class DashboardSource:
    """One dashboard's name and body, with what could not be resolved locally."""

    name: str
    body: dict[str, Any]
    unresolved: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AlarmState:
    """An alarm's current state, and the metric it watches when it watches one."""

    name: str
    arn: str
    state: str
    reason: str
    namespace: str = ""
    metric: str = ""


@dataclass(frozen=True)
class Transition:
    """One alarm state change."""

    alarm: str
    old: str
    new: str
    time: datetime
    reason: str = ""


def load_deployed(state_dir: Path) -> Deployed:
    """Return the local stack's deployed template, from <state_dir>/run/deployed.json."""
    from localaws.template import TEMPLATE_PATH, load_sam, transform

    record = json.loads((state_dir / "run" / "deployed.json").read_text())
    template = transform(load_sam(TEMPLATE_PATH), region=record["region"],
                         parameters=record["parameters"])
    return Deployed(template=template, region=record["region"],
                    stack_name=record["stack_name"], physical=record["physical"])


class _Resolver:
    """Sub strings resolved against the deployed stack, with the local stand-ins of what
    moto does not hold (the same rules as the alarm installer's and the ECS scheduler's)."""

    def __init__(self, deployed: Deployed) -> None:
        self.deployed = deployed
        self.unresolved: list[str] = []

    def value(self, expression: Any) -> str:
        try:
            return str(self.deployed.resolve(expression))
        except (TemplateError, KeyError) as exc:
            fallback = self._stand_in(expression)
            if fallback is not None:
                return fallback
            described = _describe(expression)
            problem = f"{described}: {exc}"
            if problem not in self.unresolved:
                self.unresolved.append(problem)
            return f"unresolved:{described}"

    def _stand_in(self, expression: Any) -> str | None:
        if not isinstance(expression, dict) or len(expression) != 1:
            return None
        (key, arg), = expression.items()
        if key not in ("Ref", "Fn::GetAtt"):
            return None
        name, attribute = (arg, "Ref") if key == "Ref" else (arg if isinstance(arg, list)
                                                               else arg.split(".", 1))
        resource = self.deployed.template.resources.get(name)
        if resource is None:
            return None
        props = resource.get("Properties", {})
        if resource["Type"] in ALARMS:
            alarm_name = str(self.deployed.resolve(props["AlarmName"]))
            if attribute == "Ref":
                return alarm_name
            return f"arn:aws:cloudwatch:{self.deployed.region}:{ACCOUNT_ID}:alarm:{alarm_name}"
        if attribute == "AvailabilityZone":
            # A subnet's AZ is `Select [i, <AZs>]`: locally the i-th simulated AZ.
            selects = re.findall(r'"Fn::Select": \[(\d+),', json.dumps(props.get(attribute)))
            return AZS[int(selects[0])] if selects else None
        if attribute in ("Ref", "Name"):
            # A resource moto does not hold keeps the name its properties give it on AWS.
            for key in NAME_PROPERTIES:
                if key in props:
                    return self.string(props[key])
            return name
        return None

    def sub(self, arg: Any, *, escape: bool = False) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                value = self.value(extra[name])
            elif "." in name and not name.startswith("AWS::"):
                value = self.value({"Fn::GetAtt": name.split(".", 1)})
            else:
                value = self.value({"Ref": name})
            # Inside a JSON body a value lands in a JSON string.
            return json.dumps(value)[1:-1] if escape else value

        return _PLACEHOLDER.sub(one, text)

    def string(self, value: Any, *, escape: bool = False) -> str:
        if isinstance(value, dict) and "Fn::Sub" in value:
            return self.sub(value["Fn::Sub"], escape=escape)
        return self.value(value)


def _describe(expression: Any) -> str:
    if isinstance(expression, dict) and len(expression) == 1:
        (key, arg), = expression.items()
        if key == "Ref":
            return str(arg)
        if key == "Fn::GetAtt":
            return ".".join(arg) if isinstance(arg, list) else str(arg)
    return key if isinstance(expression, dict) and len(expression) == 1 else "expression"


def local_dashboards(deployed: Deployed) -> list[DashboardSource]:
    """Return the template's dashboards as the local stack deployed them."""
    out = []
    for resource in deployed.template.of_type(DASHBOARD).values():
        resolver = _Resolver(deployed)
        props = resource["Properties"]
        name = resolver.string(props["DashboardName"])
        body = json.loads(resolver.string(props["DashboardBody"], escape=True))
        out.append(DashboardSource(name=name, body=body, unresolved=resolver.unresolved))
    return sorted(out, key=lambda d: d.name)


def aws_dashboards(client: Any, prefix: str) -> list[DashboardSource]:
    """Return the dashboards named *prefix*... from CloudWatch."""
    out = []
    for page in client.get_paginator("list_dashboards").paginate(DashboardNamePrefix=prefix):
        for entry in page["DashboardEntries"]:
            answer = client.get_dashboard(DashboardName=entry["DashboardName"])
            out.append(DashboardSource(name=entry["DashboardName"],
                                       body=json.loads(answer["DashboardBody"])))
    return sorted(out, key=lambda d: d.name)


def alarm_states(client: Any, prefix: str = "") -> list[AlarmState]:
    """Return every metric and composite alarm (named *prefix*...) with its state."""
    out = []
    kwargs: dict[str, Any] = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    if prefix:
        kwargs["AlarmNamePrefix"] = prefix
    for page in client.get_paginator("describe_alarms").paginate(**kwargs):
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            out.append(AlarmState(name=alarm["AlarmName"], arn=alarm["AlarmArn"],
                                  state=alarm["StateValue"],
                                  reason=alarm.get("StateReason", ""),
                                  namespace=alarm.get("Namespace", ""),
                                  metric=alarm.get("MetricName", "")))
    return sorted(out, key=lambda a: a.name)


def local_history(state_dir: Path) -> list[Transition]:
    """Return the local evaluator's transitions (<state_dir>/run/alarm-history.jsonl)."""
    path = state_dir / "run" / "alarm-history.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            # The evaluator's first line of an alarm has no old state (it was just created).
            out.append(Transition(alarm=item["alarm"], old=item.get("old") or "",
                                  new=item["new"],
                                  time=_time(item["time"]), reason=item.get("reason", "")))
    return out


def aws_history(client: Any, start: datetime, end: datetime) -> list[Transition]:
    """Return the state changes CloudWatch recorded between *start* and *end*."""
    out = []
    pages = client.get_paginator("describe_alarm_history").paginate(
        HistoryItemType="StateUpdate", StartDate=start, EndDate=end,
        AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    for page in pages:
        for item in page["AlarmHistoryItems"]:
            data = json.loads(item.get("HistoryData") or "{}")
            out.append(Transition(alarm=item["AlarmName"],
                                  old=data.get("oldState", {}).get("stateValue", ""),
                                  new=data.get("newState", {}).get("stateValue", ""),
                                  time=item["Timestamp"], reason=item.get("HistorySummary", "")))
    return sorted(out, key=lambda t: t.time)


def _time(value: str | float) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
