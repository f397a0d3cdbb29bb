"""Where the stack's fault proxies listen, and what each AZ's tasks reach through them."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localaws.config import AZS, FAULT_DEPENDENCIES, StackConfig
from localaws.faults.proxy import Route


def control_port(config: StackConfig) -> int:
    """Return the port of the fault proxies' control API."""
    return config.fault_ports[0]


def routes(config: StackConfig, *, mysql: tuple[str, int], redis: tuple[str, int]
           ) -> list[Route]:
    """Return one route per dependency and AZ, towards the shared servers."""
    moto = urlsplit(config.moto_url)
    upstreams = {"mariadb": mysql, "redis": redis,
                 "moto": (moto.hostname or "127.0.0.1", moto.port or 80)}
    pairs = [(d, az) for d in FAULT_DEPENDENCIES for az in AZS]
    return [Route(dependency=d, az=az, listen_host="127.0.0.1", listen_port=port,
                  upstream_host=upstreams[d][0], upstream_port=upstreams[d][1])
            for (d, az), port in zip(pairs, config.fault_ports[1:], strict=True)]


def az_env(proxies: list[Route], az: str, *, redis_db: int) -> dict[str, str]:
    """Return the variables that send *az*'s tasks to their dependencies through its proxies."""
    by = {r.dependency: r for r in proxies if r.az == az}
    return {"DB_HOST": "127.0.0.1", "DB_PORT": str(by["mariadb"].listen_port),
            "REDIS_URL": f"redis://127.0.0.1:{by['redis'].listen_port}/{redis_db}",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{by['moto'].listen_port}"}


def write_config(path: Path, config: StackConfig, proxies: list[Route]) -> Path:
    """Write the file `python -m localaws.faults` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"control_port": control_port(config),
                                "routes": [r.__dict__ for r in proxies]}, indent=2))
    return path


def status(config: StackConfig) -> dict[str, Any]:
    """Return the proxies and their faults, for `itinera status`; empty when none run."""
    try:
        url = f"http://127.0.0.1:{control_port(config)}/faults"
        with urllib.request.urlopen(url, timeout=2) as response:
            return dict(json.load(response))
    except OSError:
        return {}
