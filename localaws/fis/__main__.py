"""Serve FIS's API for one local stack: `python -m localaws.fis --state-dir DIR --port P
--endpoint-url MOTO --region R`.

It answers on its own port and asks moto's server to route every request signed for `fis`
there, so tools call one endpoint for every service; on SIGTERM it stops what runs (each
experiment rolls back) and gives FIS back to moto.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import boto3
from aiohttp import web

from localaws.config import time_scale
from localaws.fis.effects import LocalEffects
from localaws.fis.service import Fis, application
from localaws.moto_server import set_route


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
              logs=boto3.client("logs", region_name=args.region, endpoint_url=args.endpoint_url))
    runner = web.AppRunner(application(fis), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    await set_route(args.endpoint_url, "fis", f"http://127.0.0.1:{args.port}")
    print(json.dumps({"message": "FIS stand-in ready", "port": args.port}), flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    try:
        await set_route(args.endpoint_url, "fis", None)
    except (aiohttp.ClientError, OSError):
        pass  # moto stopped first: nothing left to route
    await runner.cleanup()  # stops running experiments; each rolls back


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
