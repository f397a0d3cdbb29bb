"""The template's FIS resources read back in the API's shape, for the local FIS to create."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.experiments import load_experiments
from chaos.render import resource
from localaws.fis.templates import from_cloudformation


@pytest.mark.parametrize("experiment", load_experiments(), ids=lambda e: e.name)
def test_every_rendered_experiment_reads_back_as_its_api_template(experiment: Any) -> None:
    """chaos/render.py writes each experiment into infra/sam/chaos.yaml in CloudFormation's
    shape; read back, it is the experiment's own template again (the role, which the
    render takes from the stack, and the render's own tag aside)."""
    properties = resource(experiment)["Properties"]
    back = from_cloudformation(properties)
    back.pop("roleArn")
    assert back["tags"].pop("itinera:experiment") == experiment.name

    def plain(value: Any) -> Any:  # the render's !Sub objects, as the strings they wrap
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return getattr(value, "value", value)

    expected = {**experiment.template, "tags": experiment.template.get("tags", {})}
    assert plain(back) == plain(expected)


def test_every_fis_resource_of_the_template_resolves_locally_and_can_run() -> None:
    """The deployed template's ten experiment templates, resolved against a local stack's
    ids and read in the API's shape, are each accepted by the local FIS (its targets resolve
    to local AZs, services and functions; its durations and startAfter are sound)."""
    from pathlib import Path

    from localaws.fis.service import Fis
    from localaws.resources import Deployed
    from localaws.template import load_sam, transform

    template = transform(load_sam(), region="eu-west-1",
                         parameters={"InventoryUrl": "http://127.0.0.1:8081"})
    physical = {name: f"itinera-dev-{name.lower()}" for name in template.of_type(
        "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::DynamoDB::Table")}
    deployed = Deployed(template=template, region="eu-west-1", stack_name="itinera-dev",
                        physical=physical)
    fis = Fis(region="eu-west-1", scale=0.1, state_dir=Path("unused"),
              effects=lambda _: None,  # type: ignore[arg-type,return-value]
              cloudwatch=None)
    names = set()
    for logical_id in template.of_type("AWS::FIS::ExperimentTemplate"):
        request = from_cloudformation(
            deployed.resolve(template.resources[logical_id]["Properties"]))
        created = fis.create_template({**request, "clientToken": logical_id})
        assert created["roleArn"] == "arn:aws:iam::123456789012:role/FisExperimentRole"
        names.add(created["tags"]["Name"])
    assert names == {f"itinera-dev-{e.name}" for e in load_experiments()}
