"""`python -m localaws.alarms`: the local stack's alarm evaluator process."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

import boto3

from localaws.alarms.runner import AlarmRunner
from localaws.cloudwatch.reader import local_reader
from localaws.config import local_seconds


def main(argv: list[str] | None = None) -> int:
    """Evaluate the alarms already in moto (alarms/install.py put them there) until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--interval", type=float, default=local_seconds(60),
                        help="seconds between evaluations (CloudWatch: every minute)")
    args = parser.parse_args(argv)
    cloudwatch = boto3.client("cloudwatch", endpoint_url=args.endpoint_url,
                              region_name=args.region)
    sns = boto3.client("sns", endpoint_url=args.endpoint_url, region_name=args.region)
    # The reader answers percentiles from the metrics agent's raw store, the rest from moto.
    credentials = {k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                              "AWS_SESSION_TOKEN") if k in os.environ}
    reader = local_reader(args.state_dir, args.endpoint_url, args.region,
                          credentials=credentials or None)
    runner = AlarmRunner(cloudwatch=cloudwatch, sns=sns, region=args.region, reader=reader,
                         state_dir=args.state_dir)
    count = runner.start()
    print(f"alarm evaluator: {count} alarms in INSUFFICIENT_DATA; evaluating every "
          f"{args.interval:g} s; time scale {local_seconds(1):g} (a 60 s period lasts "
          f"{local_seconds(60):g} s)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.run(stop, args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
