"""Serve FIS's API for one local stack: `python -m localaws.fis --state-dir DIR --port P
--endpoint-url MOTO --region R`.

It answers on its own port and asks moto's server to route every request signed for `fis`
there, so tools call one endpoint for every service; on SIGTERM it stops what runs (each
experiment rolls back) and gives FIS back to moto.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import aiohttp
import boto3

from localaws.config import time_scale
from localaws.fis.effects import LocalEffects
from localaws.fis.service import Fis, application
from localaws.standin import arguments, serve_routed


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGTERM or SIGINT."""
    state_dir = Path(args.state_dir)
    cloudwatch = boto3.client("cloudwatch", region_name=args.region,
                              endpoint_url=args.endpoint_url)

    def effects(session: aiohttp.ClientSession) -> LocalEffects:
        return LocalEffects(state_dir, session)

    s3 = boto3.client("s3", region_name=args.region, endpoint_url=args.endpoint_url)
    fis = Fis(region=args.region, scale=time_scale(), state_dir=state_dir, effects=effects,
              cloudwatch=cloudwatch, s3=s3,
              logs=boto3.client("logs", region_name=args.region, endpoint_url=args.endpoint_url),
              events=boto3.client("events", region_name=args.region,
                                  endpoint_url=args.endpoint_url))
    # Its cleanup stops running experiments; each rolls back.
    await serve_routed(application(fis), port=args.port, endpoint=args.endpoint_url,
                       service="fis", name="FIS stand-in")


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    asyncio.run(serve(arguments(__doc__.splitlines()[0]).parse_args(argv)))


if __name__ == "__main__":
    main()
