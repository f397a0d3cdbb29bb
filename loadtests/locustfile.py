"""What locust loads: the travellers, the options of a run, and the shape that drives it.

`itinera load` runs this file; by hand: `locust -f loadtests/locustfile.py --headless
--host URL --itinera-catalog CATALOG.json --itinera-state-dir .local Booker Browser`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape, constant_throughput, events
from locust.runners import WorkerRunner

from loadtests import judge, shapes
from loadtests.catalog import Catalog
from loadtests.stats import PERCENTILES, EndpointStats, Recorded
from loadtests.tokens import FileTokens, LocalTokens
from loadtests.travellers import (  # noqa: F401 - locust finds the user classes here
    CONTEXT,
    Booker,
    Browser,
    CardTrouble,
    Checkout,
    FlashBuyer,
    TripBooker,
)

ABORT_CHECK_S = 2.0


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("itinera")
    group.add_argument("--itinera-shape", env_var="ITINERA_LOAD_SHAPE", default="ramp",
                       choices=shapes.SHAPES, help="how the number of users changes")
    group.add_argument("--itinera-users", env_var="ITINERA_LOAD_USERS", type=int, default=10)
    group.add_argument("--itinera-duration", env_var="ITINERA_LOAD_DURATION", type=float,
                       default=60.0, help="seconds")
    group.add_argument("--itinera-rate", env_var="ITINERA_LOAD_RATE", type=float, default=0.0,
                       help="journeys per second for all users (open model); 0: think times")
    group.add_argument("--itinera-catalog", env_var="ITINERA_LOAD_CATALOG",
                       help="catalog.json written by `itinera load`")
    group.add_argument("--itinera-state-dir", env_var="ITINERA_LOAD_STATE_DIR",
                       help="the local stack's state folder, to mint tokens")
    group.add_argument("--itinera-tokens-file", env_var="ITINERA_LOAD_TOKENS_FILE",
                       help="pre-issued tokens, one a line (instead of --itinera-state-dir)")
    group.add_argument("--itinera-token-offset", env_var="ITINERA_LOAD_TOKEN_OFFSET", type=int,
                       default=0, help="first line of --itinera-tokens-file this process uses")
    group.add_argument("--itinera-run-id", env_var="ITINERA_LOAD_RUN_ID", default="manual")
    group.add_argument("--itinera-abort", env_var="ITINERA_LOAD_ABORT", default="",
                       help="JSON of the thresholds that stop the run when they fail "
                            "(judge.abort_document); empty: none")
    group.add_argument("--itinera-confirm-deadline", env_var="ITINERA_LOAD_CONFIRM_DEADLINE",
                       type=float, default=30.0,
                       help="seconds a booking may take to reach a terminal status")


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.itinera_catalog:
        return  # e.g. `locust --list`: nothing will run
    CONTEXT.catalog = Catalog.load(options.itinera_catalog)
    CONTEXT.confirm_deadline_s = options.itinera_confirm_deadline
    # Tokens outlive the run, its stop timeout and the check after it.
    ttl = int(options.itinera_duration) + 600
    if options.itinera_tokens_file:
        CONTEXT.tokens = FileTokens(Path(options.itinera_tokens_file),
                                    offset=options.itinera_token_offset)
    elif options.itinera_state_dir:
        CONTEXT.tokens = LocalTokens(Path(options.itinera_state_dir),
                                     run_id=options.itinera_run_id, ttl=ttl)
    else:
        raise SystemExit("give --itinera-state-dir (local issuer) or --itinera-tokens-file")
    watched = json.loads(options.itinera_abort) if options.itinera_abort else {}
    if watched and not isinstance(environment.runner, WorkerRunner):
        # The master (or the one process) sees every worker's stats: it watches them.
        prefix = options.csv_prefix or "locust"
        gevent.spawn(_abort_on_fail, environment, watched,
                     Path(prefix).parent / judge.ABORT_FILE)
    if options.itinera_rate > 0:
        # Open model: each user starts a journey every users/rate seconds whatever the
        # answers' latency, so a slow server gets the same arrivals (see README).
        per_user = options.itinera_rate / options.itinera_users
        for user_class in environment.user_classes:
            user_class.wait_time = constant_throughput(per_user)
        CONTEXT.start_spread_s = 1 / per_user


def live(stats: Any) -> Recorded:
    """Return locust's live stats as the judge reads a finished run's."""
    rows = [EndpointStats(type=entry.method or "", name=entry.name,
                          requests=entry.num_requests, failures=entry.num_failures,
                          rps=entry.total_rps, max_ms=entry.max_response_time,
                          percentiles={p: entry.get_response_time_percentile(p / 100)
                                       for p in PERCENTILES} if entry.num_requests else {})
            for entry in stats.entries.values()]
    return Recorded(endpoints=rows, history={})


def _abort_on_fail(environment: Any, watched: dict[str, Any], record: Path) -> None:
    """Every few seconds after the delay, stop the run when a watched threshold fails."""
    gevent.sleep(float(watched.get("delay_s", 30)))
    while environment.runner is not None and environment.runner.state not in (
            "stopping", "stopped"):
        failing = judge.failing_now(watched, live(environment.stats))
        if failing:
            reasons = [f"{c.name}: {c.observed:g} (limit {c.op} {c.limit:g})" for c in failing]
            record.write_text(json.dumps({"at": time.time(), "failed": reasons}))
            logging.error("abort on fail: %s", "; ".join(reasons))
            environment.runner.quit()
            return
        gevent.sleep(ABORT_CHECK_S)


class ItineraShape(LoadTestShape):
    """Drive the run by the stages of `--itinera-shape` (ramp, step, spike, soak, steady)."""

    plan: list[shapes.Stage] | None = None

    def tick(self) -> tuple[int, float] | None:
        """Return the users and spawn rate now, or None when the run is over."""
        if self.plan is None:
            assert self.runner is not None
            options: Any = self.runner.environment.parsed_options
            self.plan = shapes.stages(options.itinera_shape, users=options.itinera_users,
                                      duration_s=options.itinera_duration)
        stage = shapes.stage_at(self.plan, self.get_run_time())
        return None if stage is None else (stage.users, stage.spawn_rate)
