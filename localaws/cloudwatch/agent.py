"""The metrics agent: what CloudWatch Logs and the AWS services publish, done locally.

One process of the local stack (`metrics-agent`). Every few hundred ms it reads the new
lines of every log under <state_dir>/logs/, extracts EMF metrics and the balancers' request
lines (TargetResponseTime), and puts them into moto's CloudWatch and the raw store
(<state_dir>/run/metrics.sqlite). Once per local period (local_seconds(60)) it samples each
HAProxy balancer's stats (AWS/ApplicationELB) and each template queue (AWS/SQS).

    python -m localaws.cloudwatch.agent --state-dir .local \
        --deployed .local/run/deployed.json --endpoint-url http://127.0.0.1:8090
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import boto3

from itinera.logs import configure_logging
from localaws.cloudwatch.alb import (
    AlbNames,
    AlbSampler,
    Request,
    alb_names,
    parse_request,
    response_times,
)
from localaws.cloudwatch.emf import Datum, parse_line
from localaws.cloudwatch.publish import Publisher
from localaws.cloudwatch.sqs import QueueSampler, queue_urls
from localaws.cloudwatch.store import MetricStore, store_path
from localaws.cloudwatch.tail import LogTailer
from localaws.config import LOCAL_TIME_SCALE, REGION, local_seconds
from localaws.elb.runtime import RuntimeApi
from localaws.resources import Deployed
from localaws.template import TEMPLATE_PATH, load_sam, transform

log = logging.getLogger("itinera.cloudwatch.agent")
AGENT_LOG = "metrics-agent.log"
# moto's request log never holds EMF, and under load it is the biggest file by far.
SKIPPED_LOGS = frozenset({AGENT_LOG, "moto.log"})
POLL_SECONDS = 0.3
AWS_PERIOD = 60
# CloudWatch keeps one-minute data for 15 days; locally a day of the scaled clock is enough for
# any dashboard or alarm, and keeps a long `make run` from growing the store without bound.
RETENTION_AWS_SECONDS = 24 * 3600


class Agent:
    """Move metrics from the stack's logs, balancers and queues into CloudWatch and the store."""

    def __init__(self, *, state_dir: Path, store: MetricStore, publisher: Publisher,
                 names: dict[str, AlbNames], queues: QueueSampler | None = None,
                 period: float | None = None, from_end: bool = True) -> None:
        self.state_dir = state_dir
        self.store, self.publisher = store, publisher
        self.names, self.queues = names, queues
        self.period = local_seconds(AWS_PERIOD) if period is None else period
        self.tailer = LogTailer(state_dir / "logs", skip=SKIPPED_LOGS, from_end=from_end)
        self.sampler = AlbSampler(names)
        self.next_sample = 0.0
        self.next_prune = 0.0

    def _put(self, data: list[Datum]) -> None:
        if data:
            self.store.put(data)
            self.publisher.publish(data)

    def read_logs(self, now: float) -> int:
        """Extract and put the metrics in the logs' new lines; return how many datums."""
        data: list[Datum] = []
        requests: list[Request] = []
        for path, lines in self.tailer.poll().items():
            balancer_log = path.name.startswith("alb-")
            for line in lines:
                if balancer_log and (request := parse_request(line)) is not None:
                    requests.append(request)
                else:
                    data += parse_line(line)
        data += response_times(requests, self.names, now)
        self._put(data)
        return len(data)

    def sample(self, now: float) -> int:
        """Put one period's balancer and queue metrics; return how many datums."""
        data: list[Datum] = []
        for sock in sorted((self.state_dir / "run").glob("alb-*.sock")):
            balancer = sock.stem.removeprefix("alb-")
            try:
                rows = RuntimeApi(sock).stat()
            except OSError as exc:  # stopped, or not listening yet
                log.info("balancer stats unavailable", extra={"balancer": balancer,
                                                              "error": repr(exc)})
                continue
            data += self.sampler.sample(balancer, rows, now)
        if self.queues is not None:
            data += self.queues.sample(now)
        self._put(data)
        return len(data)

    def step(self) -> None:
        """Do what is due now: always the logs, the samples once per period."""
        now = time.time()
        self.read_logs(now)
        if now >= self.next_sample:
            # On period boundaries of the wall clock, as CloudWatch aligns periods: a sample
            # a poll late then still lands in its own period, and none is ever skipped
            # (the ECS stand-in's scaler needs one datapoint in each).
            self.next_sample = (now // self.period + 1) * self.period
            self.sample(now)
        if now >= self.next_prune:
            self.next_prune = now + 10 * self.period
            self.store.prune(now - local_seconds(RETENTION_AWS_SECONDS))

    def run(self, stop: threading.Event) -> None:
        """Step until *stop* is set, then read the logs one last time."""
        while not stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("metrics agent step failed")
            stop.wait(POLL_SECONDS)
        self.read_logs(time.time())


def load_deployed(path: Path) -> Deployed:
    """Rebuild the deployed stack from the record `itinera run` writes."""
    record = json.loads(path.read_text())
    template = transform(load_sam(TEMPLATE_PATH), region=record["region"],
                         parameters=record["parameters"])
    return Deployed(template=template, region=record["region"],
                    stack_name=record["stack_name"], physical=record["physical"])


def _client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)


def main() -> None:
    """Entry point: run the agent until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--deployed", type=Path, help="deployed.json: names balancers, queues")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--reset", action="store_true", help="start with an empty store")
    args = parser.parse_args()
    configure_logging("metrics-agent")
    path = store_path(args.state_dir)
    if args.reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    names: dict[str, AlbNames] = {}
    queues = None
    if args.deployed:
        deployed = load_deployed(args.deployed)
        names = alb_names(deployed)
        queues = QueueSampler(_client("sqs", args.endpoint_url, deployed.region),
                              queue_urls(deployed), endpoint_url=args.endpoint_url,
                              region=deployed.region)
    agent = Agent(state_dir=args.state_dir, store=MetricStore(path),
                  publisher=Publisher(_client("cloudwatch", args.endpoint_url, args.region)),
                  names=names, queues=queues)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("metrics agent running", extra={
        "time_scale": LOCAL_TIME_SCALE, "period_seconds": agent.period,
        "balancers": {k: vars(v) for k, v in names.items()}})
    agent.run(stop)


if __name__ == "__main__":
    main()
