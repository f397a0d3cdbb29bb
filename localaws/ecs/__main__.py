"""Serve ECS's RunTask, StopTask, DescribeTasks and ListTasks for one local stack, and
Application Auto Scaling's RegisterScalableTarget, DescribeScalableTargets and
DescribeScalingActivities for its services (localaws/ecs/appscaling.py):
`python -m localaws.ecs --state-dir DIR --port P --endpoint-url MOTO --region R`.

It asks moto's server to route those operations here (moto keeps every other ECS and
Application Auto Scaling operation: clusters, task definitions, policies); on SIGTERM it stops
the tasks it runs and gives the operations back to moto.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

import boto3

from localaws.ecs import appscaling
from localaws.ecs.api import application
from localaws.ecs.azs import AzWatcher
from localaws.ecs.runtask import OPERATIONS, Tasks, reap_leftover_tasks
from localaws.resources import ACCOUNT_ID
from localaws.standin import arguments, serve_routed

AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION")


def address_prefix(port: int) -> str:
    """Return the first three octets of this stand-in's task addresses: a loopback range
    of its own, so two local stacks' tasks never share an address."""
    return f"127.{(port >> 8) & 255}.{port & 255}"


def secrets_reader(region: str, endpoint: str) -> Any:
    """Return a function reading a container secret's `valueFrom` (Secrets Manager or SSM)."""

    def read(value_from: str) -> str:
        if ":secretsmanager:" in value_from:
            client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint)
            return str(client.get_secret_value(SecretId=value_from)["SecretString"])
        client = boto3.client("ssm", region_name=region, endpoint_url=endpoint)
        name = value_from.split(":parameter", 1)[-1] if value_from.startswith("arn:") \
            else value_from
        return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])

    return read


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGTERM or SIGINT."""
    state_dir = Path(args.state_dir)
    for line in reap_leftover_tasks(state_dir):
        print(json.dumps({"message": line}), flush=True)
    watcher = AzWatcher(state_dir)
    events = boto3.client("events", region_name=args.region, endpoint_url=args.endpoint_url)
    tasks = Tasks(
        ecs=boto3.client("ecs", region_name=args.region, endpoint_url=args.endpoint_url),
        secrets_reader=secrets_reader(args.region, args.endpoint_url), region=args.region,
        account=ACCOUNT_ID, state_dir=state_dir,
        aws_env={k: os.environ[k] for k in AWS_VARIABLES if k in os.environ},
        address_prefix=address_prefix(args.port),
        metadata_url=f"http://127.0.0.1:{args.port}", available=watcher.available,
        put_event=lambda entry: events.put_events(Entries=[entry]))
    # Its cleanup stops the tasks still running.
    await serve_routed(application(tasks), port=args.port, endpoint=args.endpoint_url,
                       service="ecs", operations=OPERATIONS, name="ECS task stand-in",
                       also={"application-autoscaling": appscaling.OPERATIONS})


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    asyncio.run(serve(arguments(__doc__.splitlines()[0]).parse_args(argv)))


if __name__ == "__main__":
    main()
