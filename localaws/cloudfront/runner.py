"""Upload the page to the web bucket and run the local distribution; report on it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localaws.cloudfront.model import Distribution, alb_service, distribution
from localaws.cloudfront.signin import local_sign_in_config
from localaws.processes import Child, Supervisor, python, wait_http
from localaws.resources import Deployed

RECORD = "cloudfront.json"


@dataclass(frozen=True, kw_only=True)
class Edge:
    """One local distribution: its port and where each of its origins is locally."""

    port: int
    origins: dict[str, str]
    distribution: Distribution

    @property
    def url(self) -> str:
        """Return the viewer URL."""
        return f"http://127.0.0.1:{self.port}"


def plan(deployed: Deployed, *, port: int, service_ports: dict[str, int]) -> Edge:
    """Map each origin of the template's distribution to its local URL."""
    dist = distribution(deployed.template)
    origins = {}
    for behavior in dist.behaviors:
        origin = behavior.origin
        if origin.kind == "s3":
            origins[origin.id] = f"s3://{deployed.ref(origin.resource)}"
        else:
            service = alb_service(deployed.template, origin.resource)
            origins[origin.id] = f"http://127.0.0.1:{service_ports[service]}"
    return Edge(port=port, origins=origins, distribution=dist)


def publish_page(deployed: Deployed, s3: Any) -> None:
    """Upload the same build the deploy uploads, signing in with a local name."""
    from gateway.web import build, upload

    bucket = _web_bucket(deployed)
    upload(s3, bucket, [*build(), local_sign_in_config()])


def start_edge(supervisor: Supervisor, edge: Edge, *, deployed_record: Path, jwt_dir: Path,
               env: dict[str, str]) -> Child:
    """Run the distribution under *supervisor* and wait until it serves the page."""
    args = [python(), "-m", "localaws.cloudfront", "--deployed", str(deployed_record),
            "--port", str(edge.port), "--jwt-dir", str(jwt_dir)]
    for origin_id, url in edge.origins.items():
        args += ["--origin", f"{origin_id}={url}"]
    child = supervisor.start("cloudfront", args, env)
    wait_http(f"{edge.url}/", child=child)
    record = {"url": edge.url, "origins": edge.origins,
              "behaviors": [{"path_pattern": b.path_pattern, "origin": b.origin.id,
                             "methods": sorted(b.methods), "compress": b.compress,
                             "cached": b.cached} for b in edge.distribution.behaviors]}
    (supervisor.state_dir / "run" / RECORD).write_text(json.dumps(record, indent=2))
    return child


def status(state_dir: Path) -> dict[str, Any]:
    """Return the local distribution's URL, behaviours, and whether it serves the page."""
    path = state_dir / "run" / RECORD
    if not path.exists():
        return {"running": False}
    record = json.loads(path.read_text())
    try:
        with urllib.request.urlopen(record["url"] + "/", timeout=2) as resp:  # noqa: S310
            page = resp.status
    except urllib.error.HTTPError as exc:
        page = exc.code
    except OSError as exc:
        return {**record, "running": False, "error": f"{type(exc).__name__}: {exc}"}
    return {**record, "running": True, "page_status": page}


def _web_bucket(deployed: Deployed) -> str:
    buckets = {b.origin.resource for b in distribution(deployed.template).behaviors
               if b.origin.kind == "s3"}
    if len(buckets) != 1:
        raise RuntimeError(f"the distribution reads {len(buckets)} buckets; expected one")
    return deployed.ref(buckets.pop())
