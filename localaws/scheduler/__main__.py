"""Fire the local stack's EventBridge Scheduler schedules: `python -m localaws.scheduler
--state-dir DIR --endpoint-url MOTO --region R` (localaws/scheduler/service.py)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

import boto3

from localaws.config import time_scale
from localaws.scheduler.service import LocalScheduler

TICK_S = 0.5


def main(argv: list[str] | None = None) -> None:
    """Tick until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args(argv)
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, region_name=args.region,
                                            endpoint_url=args.endpoint_url)
        return clients[service]

    scheduler = LocalScheduler(clients=client, state_dir=Path(args.state_dir),
                               scale=time_scale())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps({"message": "scheduler stand-in ready", "scale": scheduler.scale}),
          flush=True)
    while not stop.wait(TICK_S):
        try:
            for fired in scheduler.tick():
                print(json.dumps({"message": "fired", "schedule": fired.name,
                                  "result": fired.last_result}), flush=True)
        except Exception as exc:  # the emulator restarting: try again next tick
            print(json.dumps({"message": "tick failed", "error": repr(exc)}), flush=True)


if __name__ == "__main__":
    main()
