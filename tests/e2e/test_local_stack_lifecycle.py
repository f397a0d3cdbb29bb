"""`itinera run` as a user runs it: up, request ids in every log, down without leftovers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from itinera.auth import LocalIssuer
from localaws.config import StackConfig
from localaws.processes import port_open
from tests.stacks import PLACES
from tests.waiting import eventually_sync

PLACE = PLACES["lifecycle"]
PORT_BASE, DATABASE = PLACE.port_base, PLACE.database
# `itinera run` starts the fault proxies by default: their ports must close too.
PORTS = StackConfig(port_base=PORT_BASE, fault_proxies=True).all_ports


def _start(state: Path) -> subprocess.Popen[str]:
    # A record left by an earlier run in the same folder would describe its tasks.
    (state / "run" / "stack.json").unlink(missing_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--state-dir", str(state), "run",
         "--port-base", str(PORT_BASE), "--stage", "lifecycle", "--database", DATABASE,
         "--redis-db", str(PLACE.redis_db)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_ready(proc: subprocess.Popen[str], state: Path, timeout: float = 90) -> None:
    def ready() -> bool:
        if proc.poll() is not None:  # not an AssertionError: that would read as "not yet"
            raise RuntimeError(proc.stdout.read() if proc.stdout else "itinera run exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT_BASE}/ready", timeout=2) as r:
                # The record comes last: once it exists, operator commands find the stack.
                return r.status == 200 and (state / "run" / "stack.json").exists()
        except OSError:
            return False

    eventually_sync(ready, within=timeout, every=0.3, what="itinera run ready")


def _abort(proc: subprocess.Popen[str], state: Path) -> None:
    """Stop a stack whose test failed, children included (a SIGKILL of the parent alone
    would leave its tasks running, in process groups of their own, on the test's ports)."""
    proc.terminate()
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    record = state / "run" / "pids.json"
    if record.exists():
        for pid in json.loads(record.read_text()).values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def _stop(proc: subprocess.Popen[str], sig: int, pids: dict[str, int]) -> str:
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) is still running"
    for port in PORTS:
        assert not port_open("127.0.0.1", port), f"port {port} still answers"
    return output


def test_run_serves_logs_request_ids_and_stops_cleanly_twice(tmp_path: Path) -> None:
    """Started twice in a row, the stack serves, traces a request id, and Ctrl-C or SIGTERM
    leave no process and no open port behind."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = _start(tmp_path)
        try:
            _wait_ready(proc, tmp_path)
            pids = json.loads((tmp_path / "run" / "pids.json").read_text())
            assert {"moto", "alb-gateway", "alb-inventory"} <= set(pids)
            # The ECS stand-in's tasks, `<service>-<az>-<n>`: each service in both AZs.
            tasks = _tasks(tmp_path)
            for service in ("gateway", "inventory", "notifier"):
                assert {t["az"] for t in tasks.values() if t["service"] == service} == {
                    "az-a", "az-b"}
                assert all(pids[name] == t["pid"] for name, t in tasks.items())

            request_id = f"trace-{sig}-{time.time_ns()}"
            token = LocalIssuer(tmp_path / "jwt").mint("erin")
            request = urllib.request.Request(
                f"http://127.0.0.1:{PORT_BASE}/v1/bookings",
                headers={"Authorization": f"Bearer {token}", "X-Request-Id": request_id})
            with urllib.request.urlopen(request, timeout=10) as resp:
                assert resp.headers["X-Request-Id"] == request_id
                assert json.loads(resp.read())["items"] == []
        except BaseException:
            _abort(proc, tmp_path)
            raise
        output = _stop(proc, sig, pids)
        assert "stopped." in output
        # The same id appears as a JSON field in the gateway's and the Lambda's logs.
        # The gateway task that served it may be in either AZ.
        for pattern in ("gateway-az-*.log", "lambda-CheckoutApiFunction.log"):
            lines = [line for f in (tmp_path / "logs").glob(pattern)
                     for line in f.read_text().splitlines()]
            traced = [json.loads(line) for line in lines
                      if line.startswith("{") and request_id in line]
            assert any(entry.get("request_id") == request_id for entry in traced), pattern


def _tasks(state: Path) -> dict[str, dict[str, object]]:
    """Return the tasks `stack.json` lists (the ECS stand-in keeps it current)."""
    return dict(json.loads((state / "run" / "stack.json").read_text())["tasks"])


def _get(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT_BASE}{path}",
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_losing_one_az_keeps_the_api_up_and_the_tasks_are_replaced(tmp_path: Path) -> None:
    """Killing every task in az-a: the load balancers move traffic to az-b within seconds,
    searches keep answering, and the stack starts replacement tasks in az-a."""
    proc = _start(tmp_path)
    try:
        _wait_ready(proc, tmp_path)
        tasks = _tasks(tmp_path)
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
        search = f"/v1/flights?origin=LHR&destination=JFK&date={day}"
        assert _get(search)[0] == 200

        # WHEN az-a loses power: every task there dies at once.
        lost = {name: t for name, t in tasks.items() if t["az"] == "az-a"}
        assert {t["service"] for t in lost.values()} == {"gateway", "inventory", "notifier"}
        for task in lost.values():
            os.kill(int(str(task["pid"])), signal.SIGKILL)
        failover_started = time.monotonic()

        # THEN within a few seconds every request is served again (by az-b) ...
        consecutive_ok, statuses = 0, []

        def served_again() -> bool:
            nonlocal consecutive_ok
            status, _ = _get(search)
            statuses.append(status)
            consecutive_ok = consecutive_ok + 1 if status == 200 else 0
            assert consecutive_ok >= 20, statuses[-20:]
            return True

        eventually_sync(served_again, within=20, what="20 consecutive 200s after the loss")
        failed = len(statuses) - consecutive_ok
        recovered_after = time.monotonic() - failover_started

        # ... and az-a gets replacement tasks, as an ECS service would start.
        def replaced() -> bool:
            running = {t["service"] for name, t in _tasks(tmp_path).items()
                       if t["az"] == "az-a" and t["state"] == "RUNNING" and name not in lost}
            return {"gateway", "inventory"} <= running

        eventually_sync(replaced, within=30, every=0.5,
                        what="replacement tasks in az-a for the gateway and inventory")
        assert proc.poll() is None, "the stack stopped instead of replacing the tasks"
    except BaseException:
        _abort(proc, tmp_path)
        raise
    now = json.loads((tmp_path / "run" / "pids.json").read_text())
    output = _stop(proc, signal.SIGTERM, now)
    assert "started a replacement task" in output
    # A short burst of 502s while health checks notice is what an ALB does too; bound it.
    print(f"az-a lost: {failed} non-200 answers before 20 consecutive 200s "
          f"({recovered_after:.1f}s)")
    assert failed <= 40, statuses
