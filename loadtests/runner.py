"""`itinera load`: prepare the parameters, run locust headless and bounded, then judge the run."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from itinera.http import ServiceClient
from loadtests import compare, judge, junit, scaling, summary
from loadtests import metrics as load_metrics
from loadtests.catalog import Catalog, create_flash_flight, discover
from loadtests.invariants import InvariantResult, not_run
from loadtests.plan import JudgedRun
from loadtests.shapes import load_falls_at
from loadtests.stats import AGGREGATED, Recorded, read_recorded
from loadtests.targets import LocalTarget, Target
from localaws.record import NoLocalStack, read_record

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Locust needs a few seconds to start and to write its reports; past this it is stuck.
STARTUP_AND_REPORT_S = 90


@dataclass(frozen=True, kw_only=True)
class RunOptions(JudgedRun):
    """A local load run: its plan, and the local stack and locust processes it runs on."""

    processes: int
    state_dir: Path
    stop_timeout_s: float = 30.0


def default_host(state_dir: Path) -> str:
    """Return the gateway URL the local stack recorded, or `make run`'s default."""
    try:
        return read_record(state_dir).gateway_url
    except NoLocalStack:
        return "http://127.0.0.1:8080"


def require_loopback(host: str) -> None:
    """Refuse a local run against anything but this machine (use --target aws for that)."""
    if urlsplit(host).hostname not in LOOPBACK:
        raise SystemExit(f"a local load run goes to 127.0.0.1 only, not {host}; "
                         f"load a deployed stack from AWS with --target aws")


def machine() -> dict[str, Any]:
    """Return what the figures depend on: cores, CPU model, Python."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform()}


async def find_catalog(run: JudgedRun, target: Target, *, token: str,
                       run_id: str) -> Catalog:
    """Find routes, days and stays that exist; add the flash sale's flight when needed (with
    the target's operator token; none on AWS, where an operator adds it first)."""
    async with aiohttp.ClientSession() as session:
        client = ServiceClient(session, run.host, name="gateway", timeout=10)
        catalog = await discover(client, today=datetime.now(UTC).date(), token=token)
        if not run.scenario.flash_sale:
            return catalog
        admin = target.admin_token(run_id=run_id)
        if admin is None:
            raise SystemExit("flash-sale on AWS needs its flight created by an operator "
                             "first; see loadtests/README.md")
        flight_id = await create_flash_flight(
            client, admin_token=admin, day=date.fromisoformat(catalog.routes[0].date),
            number=int(time.time()))
        return Catalog(routes=catalog.routes, stays=catalog.stays, city_of=catalog.city_of,
                       flash_flight_id=flight_id)


def check_after(run: JudgedRun, target: Target, *, what: str) -> InvariantResult:
    """Run the invariant check after the load (*what* ended), unless --no-check."""
    if not run.check:
        return not_run("--no-check")
    print(f"  {what} done; checking the invariants (in-flight work gets up to "
          f"{run.settle_s:g} s)", flush=True)
    return target.check(grace_s=run.grace_s, settle_s=run.settle_s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def aborted(folder: Path) -> str | None:
    """Return why the run stopped itself mid-run (a threshold with abort_on_fail), if it did."""
    path = folder / judge.ABORT_FILE
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return "aborted mid-run: " + "; ".join(record.get("failed", []))


def locust_command(options: RunOptions, *, folder: Path, run_id: str,
                   abort: dict[str, Any] | None = None) -> list[str]:
    """Return the headless locust command line of the run."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--host", options.host, "--csv", str(folder / "locust"), "--csv-full-history",
               "--html", str(folder / "report.html"), "--only-summary",
               "--logfile", str(folder / "locust.log"), "--exit-code-on-error", "0",
               "--stop-timeout", f"{options.stop_timeout_s:g}",
               "--itinera-shape", options.shape, "--itinera-users", str(options.users),
               "--itinera-duration", f"{options.duration_s:g}",
               "--itinera-rate", f"{options.rate or 0:g}",
               "--itinera-catalog", str(folder / "catalog.json"),
               "--itinera-state-dir", str(options.state_dir), "--itinera-run-id", run_id,
               "--itinera-confirm-deadline", f"{options.confirm_deadline_s:g}"]
    if abort:
        command += ["--itinera-abort", json.dumps(abort)]
    if options.processes > 0:
        # Workers talk to the master on a port of this run's own: others may run locust too.
        port = str(_free_port())
        command += ["--processes", str(options.processes), "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", port, "--master-host", "127.0.0.1",
                    "--master-port", port]
    return [*command, *options.scenario.travellers]


def run_locust(command: list[str], *, folder: Path, timeout_s: float) -> str | None:
    """Run locust to its end or *timeout_s*; return why it failed, None when it ran."""
    with (folder / "locust.out").open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        started = time.monotonic()
        while True:
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > timeout_s:
                    # Its own session: the workers of --processes stop with it.
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                    return f"locust did not end within {timeout_s:.0f} s; stopped it"
                print(f"  {elapsed:4.0f} s: {_progress(folder)}", flush=True)
    if proc.returncode != 0:
        return f"locust exited with {proc.returncode}; see {folder / 'locust.out'}"
    return None


def _progress(folder: Path) -> str:
    history = folder / "locust_stats_history.csv"
    if not history.exists():
        return "starting"
    last = [line for line in history.read_text().splitlines() if ",Aggregated," in line]
    if not last:
        return "starting"
    cells = last[-1].split(",")
    return f"{cells[1]} users, {float(cells[4]):.1f} requests/s, {cells[-6]} failures so far"


def judge_folder(folder: Path, *, scenario: str, thresholds: judge.Thresholds,
                 parameters: dict[str, Any], invariants: InvariantResult,
                 extra: dict[str, Any], plots: bool = True) -> dict[str, Any]:
    """Judge what locust wrote in *folder*; write summary.json and the plots; return it."""
    recorded = read_recorded(folder / "locust")
    # Only a steady shape holds the target rate throughout; other shapes reach it at a peak.
    steady = parameters.get("shape") == "steady"
    checks = judge.evaluate(thresholds, recorded,
                            target_rate=parameters.get("rate") if steady else None)
    services = scaling.read(folder)
    falls_at = _falls_at(recorded, parameters)
    if thresholds.scaling is not None:
        checks += scaling.judge(thresholds.scaling, services or {}, recorded=recorded,
                                falls_at=falls_at,
                                time_scale=float(parameters.get("time_scale") or 1.0))
    passed = judge.verdict(checks, invariants_hold=invariants.holds) and not extra.get("error")
    result = summary.build(scenario=scenario, parameters=parameters, checks=checks,
                           invariants=invariants, recorded=recorded, passed=passed, extra=extra)
    if parameters.get("baseline"):
        # Against a reference run: its regression checks count in the verdict.
        baseline = Path(parameters["baseline"])
        table = compare.rows(compare.read_summary(baseline), result)
        regressions = compare.judge(table, compare.load_regression(
            Path(parameters.get("thresholds_file") or judge.THRESHOLDS_PATH)))
        checks += [replace(c, name=f"vs baseline: {c.name}") for c in regressions]
        passed = passed and all(c.passed for c in regressions)
        result = summary.build(scenario=scenario, parameters=parameters, checks=checks,
                               invariants=invariants, recorded=recorded, passed=passed,
                               extra=extra)
        if plots:
            compare.plot(baseline.name, folder.name, table, folder / "compare.png")
    if services:
        result["scaling"] = scaling.summary(services)
    if plots and recorded.history:
        from loadtests.plots import write_plots, write_scaling_plot

        result["plots"] = [p.name for p in write_plots(recorded, folder)]
        if services:
            result["plots"].append(write_scaling_plot(recorded, services, folder,
                                                      falls_at=falls_at).name)
    (folder / "summary.json").write_text(json.dumps(result, indent=2))
    write_junit(folder, result)
    return result


def write_junit(folder: Path, result: dict[str, Any]) -> Path:
    """Write junit.xml beside the report: one case per threshold, the invariants, and the
    run itself (an error of the run fails it), so a CI job gates on the run."""
    cases = [junit.Case(name=c["name"], passed=c["passed"],
                        detail=f"expected {c['expected']}, observed {c['observed']}")
             for c in result["thresholds"]]
    inv = result["invariants"]
    cases.append(junit.Case(
        name="invariants (itinera check)", passed=not inv.get("error") and inv.get(
            "holds") is not False, skipped=not inv["ran"] and not inv.get("error"),
        detail=inv.get("error") or inv.get("reason") or "; ".join(
            f"{v['invariant']}: {v['detail']}" for v in inv.get("violations", [])[:10])))
    cases.append(junit.Case(name="the run completed", passed=not result.get("error"),
                            detail=str(result.get("error") or "")))
    return junit.write(folder / "junit.xml", suite=f"itinera load {result['scenario']}",
                       cases=cases, seconds=float(result["parameters"]["duration_s"]))


def _falls_at(recorded: Recorded, parameters: dict[str, Any]) -> float | None:
    """Return when the run's load fell to its trickle (unix seconds), for shapes that fall."""
    offset = load_falls_at(str(parameters.get("shape")), float(parameters["duration_s"]))
    samples = recorded.history.get(AGGREGATED)
    return None if offset is None or not samples else samples[0].t + offset


def record_scaling(target: Target, folder: Path, *, stage: str, started: datetime,
                   finished: datetime) -> None:
    """Write what the services' autoscaling did during the run to *folder*/scaling.json;
    a run without it is still judged (its scaling thresholds, if any, then fail)."""
    try:
        services = scaling.observe_run(
            target.client("cloudwatch"), target.client("application-autoscaling"),
            stage=stage, started=started, finished=finished, time_scale=target.time_scale)
    except (BotoCoreError, ClientError) as exc:
        print(f"  scaling not recorded: {exc}", flush=True)
        return
    scaling.write(folder, services)
    counts = ", ".join(f"{name} {_peak(r.running)} at peak"
                       for name, r in sorted(services.items()))
    print(f"  scaling recorded: {counts or 'no service'}", flush=True)


def publish_metrics(target: Target, folder: Path, *, scenario: str) -> None:
    """Send the run's figures to CloudWatch (Itinera/Load), beside the system's."""
    recorded = read_recorded(folder / "locust")
    try:
        sent = load_metrics.publish(target.client("cloudwatch"), recorded, scenario=scenario,
                                    period=scaling.period_s(target.time_scale))
    except (BotoCoreError, ClientError) as exc:
        print(f"  load metrics not sent: {exc}", flush=True)
        return
    print(f"  load metrics: {sent} datapoints to CloudWatch {load_metrics.NAMESPACE}",
          flush=True)


def _peak(points: list[tuple[float, float]]) -> str:
    return f"{max(v for _, v in points):g} tasks" if points else "no count"


def run(options: RunOptions) -> int:
    """Run one local load run and judge it; return 0 when it passed, 1 otherwise."""
    require_loopback(options.host)
    thresholds = judge.load_thresholds(options.scenario.name, options.thresholds_path)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    folder = options.report_root / f"{run_id}-{options.scenario.name}"
    folder.mkdir(parents=True, exist_ok=False)
    print(f"itinera load {options.scenario.name}: {options.users} users, "
          f"{options.duration_s:g} s, shape {options.shape} against {options.host}",
          flush=True)
    target = LocalTarget(options.state_dir)
    catalog = asyncio.run(find_catalog(options, target, run_id=run_id,
                                       token=target.tokens(1, run_id=run_id, ttl_s=600)[0]))
    (folder / "catalog.json").write_text(catalog.to_json())
    print(f"  catalog: {len(catalog.routes)} routes and days, {len(catalog.stays)} cities"
          + (f", flash-sale flight {catalog.flash_flight_id}" if catalog.flash_flight_id
             else ""), flush=True)
    command = locust_command(options, folder=folder, run_id=run_id,
                             abort=judge.abort_document(thresholds))
    error = run_locust(command, folder=folder, timeout_s=options.duration_s
                       + options.stop_timeout_s + STARTUP_AND_REPORT_S)
    error = aborted(folder) or error
    finished = datetime.now(UTC)
    if not (folder / "locust_stats.csv").exists():
        print(f"itinera load: no stats were written: {error}; see {folder}", flush=True)
        return 1
    record_scaling(target, folder, stage=target.stage(None), started=started,
                   finished=finished)
    publish_metrics(target, folder, scenario=options.scenario.name)
    invariants = check_after(options, target, what="locust")
    parameters = {"users": options.users, "duration_s": options.duration_s,
                  "shape": options.shape, "rate": options.rate,
                  "processes": options.processes, "host": options.host, "target": "local",
                  "time_scale": target.time_scale,
                  "baseline": str(options.baseline) if options.baseline else None,
                  "thresholds_file": str(options.thresholds_path)}
    result = judge_folder(folder, scenario=options.scenario.name, thresholds=thresholds,
                          parameters=parameters, invariants=invariants, extra={
                              "run_id": run_id, "started_at": started.isoformat(),
                              "finished_at": finished.isoformat(), "error": error,
                              "machine": machine(), "command": command[1:]})
    return told(result, folder=folder, error=error)


def told(result: dict[str, Any], *, folder: Path, error: str | None) -> int:
    """Print the judged run's table and where its report is; return its exit code."""
    print()
    print(summary.table(result))
    if error:
        print(f"run error: {error}")
    print(f"report: {folder}/ (report.html, summary.json, locust_*.csv, *.png); the "
          f"dashboards over this run: itinera dashboard render --run {folder}")
    return 0 if result["verdict"] == "pass" else 1
