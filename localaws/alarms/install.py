"""Put the template's alarms into moto, with the names and dimension values used locally.

moto stores metric alarms but has no PutCompositeAlarm: each composite is stored as a
placeholder metric alarm of the same name (so DescribeAlarms and SetAlarmState work for
game days and reports), and its rule goes to <state_dir>/run/composite-alarms.json for the
evaluator. Attributes that only exist on AWS get local stand-ins (`local_attribute`); the
load balancers' and target groups' names are elb/names.py's, the ones the metrics carry.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from localaws.config import AZS
from localaws.elb.names import ATTRIBUTES
from localaws.resources import Deployed

METRIC_ALARM = "AWS::CloudWatch::Alarm"
COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
# Where a not-emulated resource keeps the name it gets on AWS.
NAME_PROPERTIES = ("FunctionName", "ClusterName", "ServiceName", "DBClusterIdentifier",
                   "ReplicationGroupId", "Name")
# Deployed.get_att answers these (elb/names.py).
ELB_NAMES = {name for names in ATTRIBUTES.values() for name in names}
PLACEHOLDER = {"Namespace": "Itinera/Local", "MetricName": "CompositeAlarm",
               "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
               "ComparisonOperator": "GreaterThanThreshold"}


def composites_path(state_dir: Path) -> Path:
    """Return where the composite alarms' rules are kept for the evaluator."""
    return state_dir / "run" / "composite-alarms.json"


def local_attribute(deployed: Deployed, logical: str, attribute: str) -> str | None:
    """Return the local stand-in of an AWS-only attribute (a subnet's AZ, a service's name)."""
    if attribute == "AvailabilityZone":
        # A subnet's AZ is `Select [i, <AZs>]`: locally the i-th simulated AZ.
        text = json.dumps(deployed.template.resources[logical]["Properties"]["AvailabilityZone"])
        index = json.loads(text.split('"Fn::Select": [', 1)[1].split(",", 1)[0])
        return AZS[int(index)]
    if attribute == "Name":
        return _local_name(deployed, logical)
    return None


def _local_name(deployed: Deployed, logical: str) -> str:
    """Return the name a resource that is not in moto has, from its template properties."""
    props = deployed.template.resources.get(logical, {}).get("Properties", {})
    for key in NAME_PROPERTIES:
        if key in props:
            value = _localize(deployed, props[key])
            return str(deployed.resolve(value))
    return logical


def _localize(deployed: Deployed, value: Any) -> Any:
    """Return *value* with references moto cannot answer replaced by their local stand-ins."""
    if isinstance(value, list):
        return [_localize(deployed, v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::GetAtt"}:
        logical, attribute = value["Fn::GetAtt"]
        local = None if logical in deployed.physical or attribute in ELB_NAMES else \
            local_attribute(deployed, logical, attribute)
        return local if local is not None else value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in deployed.template.resources and name not in deployed.physical:
            return _local_name(deployed, name)
        return value
    return {k: _localize(deployed, v) for k, v in value.items()}


def template_alarms(deployed: Deployed) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the metric alarms (PutMetricAlarm arguments) and composites, resolved locally."""
    resources = deployed.template.resources
    kinds = {n: r["Type"] for n, r in resources.items()
             if r["Type"] in (METRIC_ALARM, COMPOSITE_ALARM)}
    names = {n: str(deployed.resolve(resources[n]["Properties"]["AlarmName"])) for n in kinds}
    with_names = Deployed(template=deployed.template, region=deployed.region,
                          stack_name=deployed.stack_name, physical={**deployed.physical, **names})
    metric: list[dict[str, Any]] = []
    composite: list[dict[str, Any]] = []
    for logical, kind in kinds.items():
        props = with_names.resolve(_localize(with_names, copy.deepcopy(
            resources[logical]["Properties"])))
        (metric if kind == METRIC_ALARM else composite).append(props)
    return metric, composite


def install(deployed: Deployed, cloudwatch: Any, state_dir: Path) -> list[str]:
    """Create every template alarm in moto and record the composites' rules; return names."""
    metric, composite = template_alarms(deployed)
    for props in metric:
        cloudwatch.put_metric_alarm(**props)
    for props in composite:
        cloudwatch.put_metric_alarm(
            **PLACEHOLDER, AlarmName=props["AlarmName"],
            AlarmDescription=props.get("AlarmDescription", ""),
            ActionsEnabled=props.get("ActionsEnabled", True),
            AlarmActions=props.get("AlarmActions", []), OKActions=props.get("OKActions", []),
            InsufficientDataActions=props.get("InsufficientDataActions", []))
    # moto starts every alarm in OK; CloudWatch starts it with insufficient data.
    for props in [*metric, *composite]:
        cloudwatch.set_alarm_state(AlarmName=props["AlarmName"], StateValue="INSUFFICIENT_DATA",
                                   StateReason="Unchecked: Initial alarm creation")
    path = composites_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(composite, indent=2))
    return [p["AlarmName"] for p in [*metric, *composite]]
