"""`python -m itinera.localstack.alarms`: the local stack's alarm evaluator process."""

from __future__ import annotations

import argparse
import importlib
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from itinera.localstack.alarms.runner import AlarmRunner
from itinera.localstack.config import local_seconds


class MotoReader:
    """GetMetricData against moto: the stand-in until cloudwatch/reader.py is merged."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime,
                        end: datetime) -> dict[str, list[tuple[datetime, float]]]:
        answer = self.client.get_metric_data(MetricDataQueries=queries, StartTime=start,
                                             EndTime=end, ScanBy="TimestampAscending")
        return {r["Id"]: sorted(zip(r.get("Timestamps", []), r.get("Values", []), strict=True))
                for r in answer.get("MetricDataResults", [])}


def reader_for(state_dir: Path, endpoint_url: str, region: str, cloudwatch: Any) -> Any:
    """Return the shared LocalReader (percentiles from the raw store) when it is there."""
    try:
        shared = importlib.import_module("itinera.localstack.cloudwatch.reader")
    except ImportError:
        return MotoReader(cloudwatch)
    return shared.local_reader(state_dir, endpoint_url, region)


def main(argv: list[str] | None = None) -> int:
    """Install nothing; evaluate the alarms already in moto until SIGTERM."""
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
    runner = AlarmRunner(cloudwatch=cloudwatch, sns=sns, region=args.region,
                         reader=reader_for(args.state_dir, args.endpoint_url, args.region,
                                           cloudwatch),
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
