"""A short booking load run against the test stack judges itself, as `itinera load` does: its
locust master and two workers run as ECS tasks of the loadgen stack (the local stack's ECS
stand-in), as they run on Fargate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from localaws.record import read_record
from tests.e2e.conftest import RunningStack


def itinera(*args: str) -> tuple[int, str]:
    """Run `itinera ARGS`, bounded, and return its exit code and output."""
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True,
                          text=True, timeout=180, check=False)
    return done.returncode, done.stdout + done.stderr


PLOTS = {"requests_per_second.png", "latency.png", "errors.png", "bookings_confirmed.png",
         "overview.png"}


def test_a_short_booking_run_passes_its_thresholds_and_loses_nothing(
        stack: RunningStack, tmp_path: Path) -> None:
    """20 s of the booking mix from a master and two worker tasks: thresholds met,
    invariants hold, report and plots written, every task stopped; judged again with a
    threshold above what was reached, the same run fails."""
    # GIVEN the booking scenario's own thresholds and the stack under test
    code, out = itinera(
        "--state-dir", str(stack.config.state_dir), "load", "booking", "--users", "8",
        "--duration", "20", "--host", stack.url, "--report-dir", str(tmp_path),
        "--settle-seconds", "60")
    # THEN the run passes, with the check's counts in the terminal summary
    assert code == 0, out
    assert "itinera load booking: PASS" in out
    assert "oversold 0, lost 0, doubled 0" in out
    (folder,) = tmp_path.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    assert summary["invariants"]["ran"] and summary["invariants"]["holds"]
    assert summary["bookings"]["confirmed"] > 0
    assert all(t["passed"] for t in summary["thresholds"])
    assert summary["parameters"]["runner"] == "ecs" and summary["parameters"]["workers"] == 2
    ecs = read_record(stack.config.state_dir).client("ecs")
    cluster = summary["tasks"][0].split("/")[1]  # arn:...:task/<cluster>/<id>
    tasks = ecs.describe_tasks(cluster=cluster, tasks=summary["tasks"])["tasks"]
    assert len(tasks) == 3 and {t["lastStatus"] for t in tasks} == {"STOPPED"}
    master = tasks[0]
    assert master["group"].startswith("family:") and master["group"].endswith("-master")
    assert master["containers"][0]["exitCode"] == 0
    written = {p.name for p in folder.iterdir()}
    assert PLOTS | {"report.html", "locust_stats.csv", "locust_stats_history.csv",
                    "catalog.json", "junit.xml", "scaling.json", "scaling.png"} <= written
    # the services' scaling over the run, as CloudWatch and Application Auto Scaling say
    assert {"gateway", "inventory", "notifier"} <= set(summary["scaling"])
    assert summary["scaling"]["gateway"]["peak_running"] >= 2
    assert "load metrics:" in out and "Itinera/Load" in out

    # WHEN the run is compared with itself, and with a limit it cannot meet
    code, out = itinera("load", "compare", str(folder), str(folder))
    assert code == 0, out
    assert "GET /v1/flights" in out and (folder / "compare.png").exists()
    impossible = tmp_path / "faster.yaml"
    impossible.write_text("regression: {max_rate_drop: -0.5}\n")  # B twice as fast as A
    code, out = itinera("load", "compare", str(folder), str(folder), "--thresholds",
                        str(impossible))
    assert code == 1 and "REGRESSED rate" in out, out

    # WHEN a threshold is set above what the run reached
    strict = tmp_path / "strict.yaml"
    strict.write_text("booking:\n  min_checkout_completion: 1.01\n")
    code, out = itinera("judge", str(folder), "--thresholds", str(strict))
    # THEN the same run fails, and says which threshold
    assert code == 1, out
    assert "itinera load booking: FAIL" in out and "checkout completion" in out


def test_a_threshold_with_abort_on_fail_stops_the_run_mid_way(stack: RunningStack,
                                                              tmp_path: Path) -> None:
    """A 60 s browse run whose search p50 must stay under a microsecond, watched with
    abort_on_fail after 3 s, stops itself within seconds and fails saying why."""
    watched = tmp_path / "abort.yaml"
    watched.write_text("browse:\n  abort_on_fail: [endpoints]\n  abort_delay_s: 3\n"
                       "  endpoints:\n    GET /v1/flights: {p50: 0.001}\n")
    code, out = itinera(
        "--state-dir", str(stack.config.state_dir), "load", "browse", "--users", "4",
        "--duration", "60", "--local-processes", "0", "--host", stack.url, "--no-check",
        "--report-dir", str(tmp_path / "runs"), "--thresholds", str(watched))
    assert code == 1, out
    assert "aborted mid-run: p50 GET /v1/flights" in out
    (folder,) = (tmp_path / "runs").iterdir()
    history = (folder / "locust_stats_history.csv").read_text().splitlines()[1:]
    stamps = [int(line.split(",")[0]) for line in history]
    # It ran seconds, not the 60 it was planned for (locust's last line comes at its stop).
    assert stamps and stamps[-1] - stamps[0] < 40, (stamps[0], stamps[-1])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["verdict"] == "fail" and "aborted" in summary["error"]
