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
