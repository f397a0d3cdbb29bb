"""A chaos experiment's local plan: the FIS stand-in's planning, with its local overrides."""

from __future__ import annotations

from chaos.experiments import Experiment
from localaws.fis.plan import PlannedAction
from localaws.fis.plan import plan as plan_template


def plan(experiment: Experiment, *, scale: float) -> list[PlannedAction]:
    """Return *experiment*'s actions with local durations (its `itinera.local` applied)."""
    return plan_template(experiment.template, scale=scale, local=experiment.local)
