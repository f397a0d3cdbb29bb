"""Run the local distribution: `python -m itinera.localstack.cloudfront --port N ...`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from itinera.auth import LocalIssuer
from itinera.localstack.cloudfront.edge import create_app
from itinera.localstack.cloudfront.model import distribution
from itinera.localstack.cloudfront.signin import token_routes
from itinera.localstack.template import load_sam, transform
from itinera.logs import configure_logging
from itinera.serving import run


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
    app = create_app(dist, origins, extra_routes=token_routes(LocalIssuer(args.jwt_dir)))
    run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
