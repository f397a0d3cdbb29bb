"""`itinera gameday run --target aws`: start the deployed template in FIS and follow it.

It follows the experiment with the same calls as a local game day (chaos/gameday/fis.py), and
stops it when interrupted (Ctrl-C, SIGTERM). The load, hypotheses and verdict on AWS are
still read off the dashboard and a load run (docs/gameday.md); one runner for both targets is
issue 22's next step.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from chaos.gameday.fis import follow


def find_template(fis: Any, name: str) -> str:
    """Return the id of the experiment template whose Name tag is *name*."""
    for page in fis.get_paginator("list_experiment_templates").paginate():
        for template in page["experimentTemplates"]:
            if template.get("tags", {}).get("Name") == name:
                return str(template["id"])
    raise SystemExit(f"no FIS experiment template tagged Name={name}")


def _say(experiment_id: str, state: dict[str, Any]) -> None:
    print(f"  {experiment_id} {state['status']}: {state.get('reason', '')}", flush=True)


def run_on_aws(fis: Any, *, stage: str, experiment: str, poll_s: float = 10.0) -> int:
    """Start the experiment and print each state until it ends; 0 only when completed.
    Interrupted, it stops the experiment (FIS rolls back) before it exits."""
    template_id = find_template(fis, f"itinera-{stage}-{experiment}")
    name = f"gameday-{experiment}-{int(time.time())}"
    print(f"starting FIS experiment {name} from template {template_id}", flush=True)

    async def main() -> dict[str, Any]:
        task = asyncio.current_task()
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await follow(fis, template_id, name=name, poll_s=poll_s, on_state=_say)

    try:
        found = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the experiment was stopped", flush=True)
        return 130
    return 0 if found["state"]["status"] == "completed" else 1
