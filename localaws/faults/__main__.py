"""Run the fault proxies and their control API: python -m localaws.faults CONFIG."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aiohttp import web

from localaws.faults.control import FaultProxies, create_app
from localaws.faults.proxy import Route


def main(argv: list[str] | None = None) -> None:
    """Read the routes and control port from a JSON file and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path,
                        help='{"control_port": N, "routes": [{dependency, az, listen_host, '
                             'listen_port, upstream_host, upstream_port}, ...]}')
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    proxies = FaultProxies(Route(**r) for r in config["routes"])
    # Localhost only: the control API changes what every task's dependencies do.
    web.run_app(create_app(proxies), host="127.0.0.1", port=int(config["control_port"]),
                print=None)


if __name__ == "__main__":
    main()
