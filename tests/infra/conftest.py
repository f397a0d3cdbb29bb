"""The SAM template, raw and transformed, loaded once per session for the infra checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from itinera.localstack.resources import Deployed
from itinera.localstack.template import TEMPLATE_PATH, Template, load_sam, transform

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


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
