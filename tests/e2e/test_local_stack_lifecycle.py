"""`itinera run` as a user runs it: up, request ids in every log, down without leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from itinera.auth import LocalIssuer
from itinera.localstack.processes import port_open

pytestmark = pytest.mark.e2e

PORT_BASE = int(os.environ.get("ITINERA_E2E_LIFECYCLE_PORT_BASE", "28080"))
DATABASE = os.environ.get("ITINERA_E2E_LIFECYCLE_DATABASE", "itinera_e2e_lifecycle")
PORTS = (PORT_BASE, PORT_BASE + 1, PORT_BASE + 2, PORT_BASE + 3, PORT_BASE + 10)


def _start(state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "itinera.cli", "--state-dir", str(state), "run",
         "--port-base", str(PORT_BASE), "--stage", "lifecycle", "--database", DATABASE,
         "--redis-db", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_ready(proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT_BASE}/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("itinera run did not become ready")


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
            _wait_ready(proc)
            pids = json.loads((tmp_path / "run" / "pids.json").read_text())
            assert {"moto", "inventory", "gateway", "notifier"} <= set(pids)

            request_id = f"trace-{sig}-{time.time_ns()}"
            token = LocalIssuer(tmp_path / "jwt").mint("erin")
            request = urllib.request.Request(
                f"http://127.0.0.1:{PORT_BASE}/v1/bookings",
                headers={"Authorization": f"Bearer {token}", "X-Request-Id": request_id})
            with urllib.request.urlopen(request, timeout=10) as resp:
                assert resp.headers["X-Request-Id"] == request_id
                assert json.loads(resp.read())["items"] == []
        except BaseException:
            proc.kill()
            raise
        output = _stop(proc, sig, pids)
        assert "stopped." in output
        # The same id appears as a JSON field in the gateway's and the Lambda's logs.
        for log_name in ("gateway.log", "lambda-CheckoutApiFunction.log"):
            lines = (tmp_path / "logs" / log_name).read_text().splitlines()
            traced = [json.loads(line) for line in lines
                      if line.startswith("{") and request_id in line]
            assert any(entry.get("request_id") == request_id for entry in traced), log_name
