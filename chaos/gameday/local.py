"""A game day's record in the emulator's FIS (which only records what it is told)."""

from __future__ import annotations

from typing import Any

from localaws.record import StackRecord


def record_in_fis(record: StackRecord, template: dict[str, Any], name: str
                  ) -> dict[str, str]:
    """Create the template and start an experiment in the emulator's FIS (it only records)."""
    fis = record.client("fis")
    role = f"arn:aws:iam::123456789012:role/itinera-{record.stage}-fis"
    created = fis.create_experiment_template(
        clientToken=name, description=template["description"], roleArn=role,
        targets=template.get("targets", {}), actions=template["actions"],
        stopConditions=template.get("stopConditions") or [{"source": "none"}],
        tags=template.get("tags", {}))
    template_id = created["experimentTemplate"]["id"]
    started = fis.start_experiment(experimentTemplateId=template_id, tags={"Name": name})
    return {"template_id": template_id, "experiment_id": started["experiment"]["id"]}


def end_in_fis(record: StackRecord, experiment_id: str, state: str) -> None:
    """Stop the emulator's experiment when the local one did not complete."""
    if state != "completed":
        record.client("fis").stop_experiment(id=experiment_id)
