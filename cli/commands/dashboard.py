"""`itinera dashboard render`: every dashboard of the stack as PNGs and one HTML page."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> timedelta:
    """Return `15m`, `90s`, `2h` or `1d` as a timedelta."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"want a duration such as 15m, 90s or 2h: {text}")
    return timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


def local_inputs(state_dir: Path) -> dict[str, Any]:
    """Return render()'s inputs for the local stack whose folder is *state_dir*."""
    from dashboards.drawing.search import CloudWatchCatalog
    from dashboards.drawing.source import (
        alarm_states,
        load_deployed,
        local_dashboards,
        local_history,
    )
    from localaws.cloudwatch.reader import local_reader
    from localaws.record import read_record

    stack = read_record(state_dir)
    deployed = load_deployed(state_dir)
    creds = stack.aws
    client = stack.client("cloudwatch")
    stage = deployed.template.parameters.get("Stage", "dev")
    return {"dashboards": local_dashboards(deployed),
            "reader": local_reader(state_dir, creds["AWS_ENDPOINT_URL"], deployed.region,
                                   credentials=creds),
            "catalog": CloudWatchCatalog(client),
            "alarms": alarm_states(client, prefix=f"itinera-{stage}-"),
            "transitions": local_history(state_dir),
            # The stack's own scale: this process may run with another ITINERA_TIME_SCALE.
            "scale": stack.time_scale,
            "source": f"the local stack in {state_dir} (moto and the raw metric store)"}


def aws_inputs(*, stage: str, region: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Return render()'s inputs for the stage deployed in AWS (credentials from the env)."""
    import boto3

    from dashboards.drawing.search import CloudWatchCatalog
    from dashboards.drawing.source import alarm_states, aws_dashboards, aws_history
    from localaws.cloudwatch.reader import CloudWatchReader

    client = boto3.client("cloudwatch", region_name=region) if region \
        else boto3.client("cloudwatch")
    prefix = f"itinera-{stage}-"
    return {"dashboards": aws_dashboards(client, prefix), "reader": CloudWatchReader(client),
            "catalog": CloudWatchCatalog(client), "alarms": alarm_states(client, prefix),
            "transitions": aws_history(client, start, end), "scale": 1.0,
            "source": f"CloudWatch ({client.meta.region_name})"}


def moment(text: str) -> datetime:
    """Return an ISO 8601 time (UTC when it names no zone)."""
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"want an ISO 8601 time such as "
                                         f"2026-12-07T21:00:00Z: {text}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def window(args: argparse.Namespace, *, scale: float
           ) -> tuple[datetime, datetime, list[Any], Path | None]:
    """Return the start, end, phases and default output folder the arguments ask for; a
    run's window has a margin of one CloudWatch period (at *scale*) each side."""
    from dashboards.drawing.phases import phases_of_run

    if args.run is not None:
        try:
            phases = phases_of_run(args.run)
        except (ValueError, OSError) as exc:
            raise SystemExit(f"itinera dashboard render --run: {exc}") from None
        margin = timedelta(seconds=max(10.0, 60 * scale))
        return (args.start or min(p.start for p in phases) - margin,
                args.end or max(p.end for p in phases) + margin, phases,
                args.run / "dashboards")
    end = args.end or datetime.now(UTC)
    start = args.start or end - args.since
    if start >= end:
        raise SystemExit("itinera dashboard render: --start must be before --end")
    return start, end, [], None


def _render(args: argparse.Namespace) -> int:
    from dashboards.drawing.render import render
    from localaws.config import ROOT
    from localaws.record import read_record

    scale = 1.0 if args.aws else float(read_record(args.state_dir).time_scale)
    start, end, phases, run_out = window(args, scale=scale)
    inputs = (aws_inputs(stage=args.stage, region=args.region, start=start, end=end)
              if args.aws else local_inputs(args.state_dir))
    out = args.out or run_out or ROOT / "reports" / "dashboards" / end.strftime(
        "%Y%m%dT%H%M%SZ")
    report = render(**inputs, start=start, end=end, out=out, phases=phases)
    print(f"time scale {report.scale}: a 60 s period is {round(60 * report.scale, 3)} s")
    for dashboard in report.dashboards:
        with_data = sum(w.has_data for w in dashboard.widgets)
        print(f"{dashboard.name}: {with_data}/{len(dashboard.widgets)} widgets with data")
        for problem in dashboard.unresolved:
            print(f"  unresolved: {problem}")
    print(f"wrote {report.index}")
    return 0


def register(sub: Any) -> None:
    """Add `dashboard render` to the command line."""
    dashboard = sub.add_parser("dashboard", help="the stack's CloudWatch dashboards")
    commands = dashboard.add_subparsers(dest="dashboard_command", required=True)
    render = commands.add_parser(
        "render", help="draw every dashboard widget as a PNG and write an HTML page with the "
                       "alarms' states and changes (local stack, or --aws)")
    render.add_argument("--since", type=duration, default=timedelta(minutes=15),
                        help="how far back: 15m, 90s, 2h, 1d (default 15m)")
    render.add_argument("--run", type=Path, default=None,
                        help="a load run's or game day's report folder: render its window "
                             "with its phases marked, into <folder>/dashboards/")
    render.add_argument("--start", type=moment, default=None,
                        help="the window's start (ISO 8601; default: --since before --end)")
    render.add_argument("--end", type=moment, default=None,
                        help="the window's end (ISO 8601; default: now)")
    render.add_argument("--out", type=Path, default=None,
                        help="output folder (default reports/dashboards/<timestamp>/)")
    render.add_argument("--aws", action="store_true",
                        help="read the deployed stack's dashboards from real CloudWatch")
    render.add_argument("--stage", default="dev", help="the stage with --aws (default dev)")
    render.add_argument("--region", default="", help="the region with --aws")
    render.set_defaults(func=_render)
