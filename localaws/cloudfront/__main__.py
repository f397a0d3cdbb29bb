"""Run the local distribution: `python -m localaws.cloudfront --port N ...`."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from itinera.auth import LocalIssuer
from itinera.logs import configure_logging
from localaws.cloudfront.edge import create_app, late_answer, viewer_error_headers
from localaws.cloudfront.model import distribution
from localaws.cloudfront.signin import token_routes
from localaws.cloudfront.viewer import ViewerLimits, ViewerRunner, serve_viewers
from localaws.template import load_sam, transform


def main() -> None:
    """Entry point of the local CloudFront process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployed", required=True, type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--origin", action="append", default=[], metavar="ID=URL")
    parser.add_argument("--jwt-dir", type=Path, required=True,
                        help="the local issuer's folder (sign-in by name, local only)")
    args = parser.parse_args()
    configure_logging("cloudfront")
    record = json.loads(args.deployed.read_text())
    dist = distribution(transform(load_sam(), region=record["region"],
                                  parameters=record["parameters"]))
    origins = dict(o.split("=", 1) for o in args.origin)
    limits = ViewerLimits()
    app = create_app(dist, origins, extra_routes=token_routes(LocalIssuer(args.jwt_dir)),
                     limits=limits)
    runner = ViewerRunner(app, limits=limits, late_answer=late_answer(dist, limits),
                          on_error=viewer_error_headers(dist))
    asyncio.run(serve_viewers(runner, args.host, args.port))


if __name__ == "__main__":
    main()
