"""`itinera gameday run --target aws`: start the deployed template in real FIS and follow it.

This path cannot be tested without an AWS account; it is small on purpose: find the template
by its Name tag, start it, poll until it ends, and report FIS's own states. The hypotheses on
AWS are read off the dashboard and the load run (docs/gameday.md).
"""

from __future__ import annotations

import time
from typing import Any

TERMINAL = ("completed", "stopped", "failed", "cancelled")


def find_template(fis: Any, name: str) -> str:
    """Return the id of the experiment template whose Name tag is *name*."""
    for page in fis.get_paginator("list_experiment_templates").paginate():
        for template in page["experimentTemplates"]:
            if template.get("tags", {}).get("Name") == name:
                return str(template["id"])
    raise SystemExit(f"no FIS experiment template tagged Name={name}")


def run_on_aws(fis: Any, *, stage: str, experiment: str, poll_s: float = 10.0) -> int:
    """Start the experiment, print each state change until it ends; 0 only when completed."""
    template_id = find_template(fis, f"itinera-{stage}-{experiment}")
    started = fis.start_experiment(experimentTemplateId=template_id,
                                   tags={"Name": f"gameday-{experiment}-{int(time.time())}"})
    experiment_id, last = started["experiment"]["id"], ""
    print(f"started FIS experiment {experiment_id} from template {template_id}", flush=True)
    while True:
        state = fis.get_experiment(id=experiment_id)["experiment"]["state"]
        if state["status"] != last:
            last = state["status"]
            print(f"  {last}: {state.get('reason', '')}", flush=True)
        if last in TERMINAL:
            return 0 if last == "completed" else 1
        time.sleep(poll_s)  # FIS's API is polled; it has no push for experiment states
