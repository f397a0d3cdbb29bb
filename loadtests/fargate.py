"""Entry of the load generator's ECS tasks: the locust master or a worker of one run.

`itinera load` (loadtests/ecs.py) starts the tasks, on Fargate or on the local stack's ECS
stand-in, with the run's settings in their environment; the master listens on its task's own
address (from the task metadata endpoint), writes locust's reports and uploads them to the
run's folder in the bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Workers have this long to connect before the master gives up (Spot capacity can be slow).
WORKERS_MAX_WAIT_S = 300


def task_address(env: Mapping[str, str]) -> str | None:
    """Return this task's private address, from the ECS task metadata endpoint (v4)."""
    uri = env.get("ECS_CONTAINER_METADATA_URI_V4")
    if not uri:
        return None
    with urllib.request.urlopen(f"{uri}/task", timeout=5) as answer:  # noqa: S310 - ECS's URI
        task = json.load(answer)
    return str(task["Containers"][0]["Networks"][0]["IPv4Addresses"][0])


def master_command(env: Mapping[str, str], *, out: Path,
                   bind: str | None = None) -> list[str]:
    """Return the headless master's command line from the run's environment; it listens
    on *bind* (its task's address) when given, else on every interface."""
    listen = ["--master-bind-host", bind] if bind else []
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--master", "--headless",
            *listen,
            "--expect-workers", env["ITINERA_LOAD_WORKERS"],
            "--expect-workers-max-wait", str(WORKERS_MAX_WAIT_S),
            "--host", env["ITINERA_LOAD_HOST"], "--csv", str(out / "locust"),
            "--csv-full-history", "--html", str(out / "report.html"), "--only-summary",
            "--exit-code-on-error", "0", "--stop-timeout", "30",
            *env["ITINERA_LOAD_TRAVELLERS"].split(",")]


def worker_command(env: Mapping[str, str]) -> list[str]:
    """Return a worker's command line: it connects to the master the runner found."""
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
            "--master-host", env["ITINERA_LOAD_MASTER_HOST"],
            *env["ITINERA_LOAD_TRAVELLERS"].split(",")]


def _fetch_run_files(s3: Any, bucket: str, prefix: str, work: Path) -> dict[str, str]:
    for name in ("catalog.json", "tokens.txt"):
        s3.download_file(bucket, f"{prefix}/{name}", str(work / name))
    return {"ITINERA_LOAD_CATALOG": str(work / "catalog.json"),
            "ITINERA_LOAD_TOKENS_FILE": str(work / "tokens.txt")}


def _run(role: str, s3: Any, work: Path) -> int:
    bucket, prefix = os.environ["ITINERA_LOAD_BUCKET"], os.environ["ITINERA_LOAD_PREFIX"]
    env = {**os.environ, **_fetch_run_files(s3, bucket, prefix, work)}
    if role == "worker":
        return subprocess.run(worker_command(env), env=env, check=False).returncode
    out = work / "out"
    out.mkdir()
    timeout = float(env["ITINERA_LOAD_DURATION"]) + WORKERS_MAX_WAIT_S + 300
    with (out / "locust.out").open("w") as log:
        master = subprocess.Popen(master_command(env, out=out, bind=task_address(env)),
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        # StopTask (a game day's stop condition, Ctrl-C of the runner) sends SIGTERM to this
        # process: locust is told to stop too, writes its reports, and they are uploaded.
        signal.signal(signal.SIGTERM, lambda *_: master.send_signal(signal.SIGTERM))
        try:
            code = master.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            master.kill()
            code = master.wait()
    for path in sorted(out.iterdir()):
        s3.upload_file(str(path), bucket, f"{prefix}/{path.name}")
    return code


def main(role: str) -> int:
    """Run this task's part of the run; the master uploads the reports when locust ends."""
    import boto3

    # A folder of this task's own under /tmp (the container's only writable place); tasks
    # of the local stand-in share one machine, so never a fixed path.
    work = Path(tempfile.mkdtemp(prefix=f"itinera-load-{role}-"))
    try:
        return _run(role, boto3.client("s3"), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "worker"))
