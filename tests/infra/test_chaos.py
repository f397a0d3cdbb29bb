"""chaos.yaml's experiments are chaos/experiments/ rendered, fitting the template they target."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from chaos import render
from chaos.catalog import load_catalog
from chaos.experiments import Experiment, alarm_names, load_experiments
from tests.infra.conftest import ROOT, SIDECAR, raw

CATALOG = load_catalog()
EXPERIMENTS = load_experiments()
IDS = [e.name for e in EXPERIMENTS]
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}")
# The composite alarm every experiment stops on (`itinera-${Stage}-booking-path-unhealthy`).
BOOKING_PATH_ALARM = "booking-path-unhealthy"
# Catalog permissions no experiment needs, with why (the role stays least privilege).
NOT_NEEDED = {"ec2:GetManagedPrefixListEntries": "only aws:network:disrupt-connectivity with "
                                                 "scope prefix-list reads it; none uses it"}
# Where a FIS target's resource tags live in the templates: a resource type, the template file
# and CloudFormation type whose Tags reach the targets.
TAGGED = {"aws:ecs:task": ("service.yaml", "AWS::ECS::Service"),
          "aws:ec2:subnet": ("network.yaml", "AWS::EC2::Subnet")}


def _defined_alarms() -> set[str]:
    """Return every alarm name dashboards/alarms.yaml defines, single or composite."""
    data = yaml.safe_load((ROOT / "dashboards" / "alarms.yaml").read_text())
    return {item["name"] for value in data.values() if isinstance(value, list)
            for item in value if isinstance(item, dict) and "name" in item}


def _sub(value: Any) -> str:
    """Return a Tags value as the Sub string an experiment would write for it."""
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"])
    return str(value)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def test_committed_template_matches_the_experiments() -> None:
    """Re-rendering chaos/experiments/ changes nothing in infra/sam/chaos.yaml."""
    current = render.TEMPLATE.read_text()
    assert render.rendered(current, EXPERIMENTS) == current, \
        "run `make chaos` and commit infra/sam/chaos.yaml"


def test_every_experiment_is_an_experiment_template_of_chaos_yaml() -> None:
    """Each experiment file is one AWS::FIS::ExperimentTemplate, run with the FIS role."""
    chaos = raw("chaos.yaml")["Resources"]
    templates = {k: v for k, v in chaos.items() if v["Type"] == "AWS::FIS::ExperimentTemplate"}
    assert set(templates) == {render.logical_id(e) for e in EXPERIMENTS}
    assert all(t["Properties"]["RoleArn"] == {"Fn::GetAtt": ["FisExperimentRole", "Arn"]}
               for t in templates.values())


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=IDS)
def test_every_name_an_experiment_substitutes_is_known_to_chaos_yaml(
        experiment: Experiment) -> None:
    """${Name} in an experiment is a chaos.yaml parameter, resource or pseudo parameter."""
    chaos = raw("chaos.yaml")
    known = set(chaos["Parameters"]) | set(chaos["Resources"]) | {
        "AWS::Partition", "AWS::Region", "AWS::AccountId"}
    used = {m for s in _strings(experiment.template) for m in SUB_NAME.findall(s)}
    assert used <= known


def test_the_root_passes_every_parameter_chaos_yaml_needs() -> None:
    """template.yaml's Chaos stack gives every chaos.yaml parameter without a default."""
    needed = {n for n, p in raw("chaos.yaml")["Parameters"].items() if "Default" not in p}
    (chaos,) = [r for r in raw("template.yaml")["Resources"].values()
                if r["Properties"].get("TemplateURL") == "chaos.yaml"]
    assert needed <= set(chaos["Properties"]["Parameters"])


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=IDS)
def test_target_tags_exist_on_some_resource_of_that_type(experiment: Experiment) -> None:
    """Every resourceTags pair of a target is carried by a resource FIS would find there
    (ECS tasks get theirs from the service, which propagates its tags)."""
    for target in experiment.template["targets"].values():
        tags = target.get("resourceTags")
        if not tags:
            continue
        file, kind = TAGGED[target["resourceType"]]
        carried = set()
        for resource in raw(file)["Resources"].values():
            if resource["Type"] != kind:
                continue
            props = resource["Properties"]
            if kind == "AWS::ECS::Service" and props.get("PropagateTags") != "SERVICE":
                continue
            carried.add(frozenset((t["Key"], _sub(t["Value"])) for t in props.get("Tags", [])))
        assert any(set(tags.items()) <= pairs for pairs in carried), target


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=IDS)
def test_service_targets_name_a_service_of_the_stack(experiment: Experiment) -> None:
    """A target that selects tasks by service names one app.yaml deploys."""
    services = {r["Properties"]["Parameters"]["ServiceName"]
                for r in raw("app.yaml")["Resources"].values()
                if r["Type"] == "AWS::CloudFormation::Stack"
                and r["Properties"]["TemplateURL"] == "service.yaml"}
    for target in experiment.template["targets"].values():
        if "service" in target.get("parameters", {}):
            assert target["parameters"]["service"] in services


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=IDS)
def test_stop_conditions_name_alarms_that_exist(experiment: Experiment) -> None:
    """Every stop condition is a CloudWatch alarm of dashboards/alarms.yaml, composites too."""
    names = alarm_names(experiment)
    assert names, "every experiment stops on an alarm"
    assert set(names) <= _defined_alarms()


def test_the_booking_path_composite_alarm_exists() -> None:
    """The composite alarm the experiments stop on is defined in dashboards/alarms.yaml."""
    assert BOOKING_PATH_ALARM in _defined_alarms()


def test_the_fis_role_holds_every_permission_the_experiments_actions_need() -> None:
    """Each permission FIS's reference lists for an action the experiments use is granted."""
    role = raw("chaos.yaml")["Resources"]["FisExperimentRole"]["Properties"]
    granted = {a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]
               if s["Effect"] == "Allow"
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    used = {a["actionId"] for e in EXPERIMENTS for a in e.template["actions"].values()}
    needed = {p for action in used for p in CATALOG.actions[action].permissions}
    assert needed - set(NOT_NEEDED) <= granted


def test_the_tasks_and_functions_have_what_the_actions_need() -> None:
    """ECS network faults need the SSM sidecar, pidMode task, fault injection and no ECS
    Exec; Lambda faults need FIS's extension layer and its configuration location; the Redis
    AZ power interruption needs a Multi-AZ replication group."""
    needs = {n for e in EXPERIMENTS for a in e.template["actions"].values()
             for n in CATALOG.actions[a["actionId"]].needs}
    assert {"ssm-agent-sidecar", "pid-mode-task", "fault-injection",
            "fis-lambda-extension"} <= needs
    service = raw("service.yaml")["Resources"]
    task = service["TaskDefinition"]["Properties"]
    assert task["PidMode"] == "task" and task["EnableFaultInjection"] is True
    (sidecar,) = [c for c in task["ContainerDefinitions"] if c["Name"] == SIDECAR]
    assert sidecar["Essential"] is False  # the service serves even if registration fails
    assert service["Service"]["Properties"]["EnableExecuteCommand"] is False
    # The ElastiCache AZ power action needs Multi-AZ with automatic failover (a replica to
    # promote in the other AZ).
    assert "multi-az" in needs
    redis = raw("data.yaml")["Resources"]["RedisReplicationGroup"]["Properties"]
    assert redis["MultiAZEnabled"] is True and redis["AutomaticFailoverEnabled"] is True
    assert redis["NumCacheClusters"] >= 2
    checkout = raw("checkout.yaml")["Resources"]
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction"):
        props = checkout[name]["Properties"]
        assert props["Layers"]["Fn::If"][0] == "HasFisExtension"
        variables = props["Environment"]["Variables"]
        assert variables["AWS_LAMBDA_EXEC_WRAPPER"]["Fn::If"][1] == "/opt/aws-fis/bootstrap"
        location = variables["AWS_FIS_CONFIGURATION_LOCATION"]["Fn::If"][1]["Fn::Sub"]
        # The bucket chaos.yaml creates, and the prefix the FIS role may write.
        assert location.endswith("fis-config-${AWS::AccountId}/fis-lambda-config/")


def test_one_experiment_is_the_weekly_game_day_and_chaos_starts_nothing_itself() -> None:
    """The scheduled experiment is the weekly game day, which the loadgen stack's schedule
    runs through the game-day runner (tests/infra/test_loadgen.py); the chaos stack holds
    the templates and schedules nothing itself (a schedule there would start FIS alone,
    with no load and no verdict)."""
    chaos = raw("chaos.yaml")["Resources"]
    assert [e.name for e in EXPERIMENTS if e.schedule] == ["all-tasks-lost-az"]
    assert not [n for n, r in chaos.items() if r["Type"] == "AWS::Scheduler::Schedule"]

