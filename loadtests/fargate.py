"""Entry of the load generator's Fargate tasks: the locust master or a worker of one run.

`itinera load --target aws` starts the tasks with the run's settings in their environment;
the master writes locust's reports and uploads them to the run's folder in the bucket.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
WORK = Path("/tmp/itinera-load")  # noqa: S108 - the container's only writable place
# Workers have this long to connect before the master gives up (Spot capacity can be slow).
WORKERS_MAX_WAIT_S = 300


def master_command(env: Mapping[str, str], *, out: Path) -> list[str]:
    """Return the headless master's command line from the run's environment."""
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--master", "--headless",
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


def _fetch_run_files(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("catalog.json", "tokens.txt"):
        s3.download_file(bucket, f"{prefix}/{name}", str(WORK / name))
    return {"ITINERA_LOAD_CATALOG": str(WORK / "catalog.json"),
            "ITINERA_LOAD_TOKENS_FILE": str(WORK / "tokens.txt")}


def main(role: str) -> int:
    """Run this task's part of the run; the master uploads the reports when locust ends."""
    import boto3

    s3 = boto3.client("s3")
    bucket, prefix = os.environ["ITINERA_LOAD_BUCKET"], os.environ["ITINERA_LOAD_PREFIX"]
    env = {**os.environ, **_fetch_run_files(s3, bucket, prefix)}
    if role == "worker":
        return subprocess.run(worker_command(env), env=env, check=False).returncode
    out = WORK / "out"
    out.mkdir(parents=True, exist_ok=True)
    timeout = float(env["ITINERA_LOAD_DURATION"]) + WORKERS_MAX_WAIT_S + 300
    with (out / "locust.out").open("w") as log:
        code = subprocess.run(master_command(env, out=out), env=env, stdout=log,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode
    for path in sorted(out.iterdir()):
        s3.upload_file(str(path), bucket, f"{prefix}/{path.name}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "worker"))
