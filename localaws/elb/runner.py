"""Start HAProxy for a target group under the stack's supervisor, and report on it."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from localaws.elb.haproxy import FAIL_OPEN_SUFFIX, Balancer, error_files, render
from localaws.elb.metrics import az_of, by_az, health_of
from localaws.elb.runtime import RuntimeApi
from localaws.processes import Child, Supervisor
from localaws.servers import SOCKET_PATH_MAX, find_binary

INSTALL_HINT = ("install it with `sudo apt-get install haproxy` (Debian/Ubuntu, 2.2 or later), "
                "or run `make haproxy`")


class HaproxyMissing(RuntimeError):
    """HAProxy, which stands in for the ALBs, is not installed."""


def find_haproxy() -> str:
    """Return the haproxy binary's path, or raise with how to install it."""
    found = find_binary("haproxy")
    if found is None:
        raise HaproxyMissing("haproxy is needed for the local load balancers and was not "
                             f"found on PATH or in /usr/sbin; {INSTALL_HINT}")
    return found


def haproxy_version(binary: str | None = None) -> tuple[int, int]:
    """Return the installed HAProxy's (major, minor) version."""
    out = subprocess.run([binary or find_haproxy(), "-v"], capture_output=True, text=True,
                         check=True).stdout
    match = re.search(r"version (\d+)\.(\d+)", out)
    if match is None:
        raise RuntimeError(f"cannot read HAProxy's version from {out[:200]!r}")
    return int(match.group(1)), int(match.group(2))


def parser_answers_from_error_files(version: tuple[int, int]) -> bool:
    """Return whether this HAProxy answers its parser's errors from the error files.

    Before 3.3 (commit d252ec2be, "Use configured error files if possible for early H1
    errors") the HTTP/1 parser sends its built-in HTML page whatever the file holds.
    """
    return version >= (3, 3)


def socket_path(state_dir: Path, name: str) -> Path:
    """Return where balancer *name* keeps its runtime API socket."""
    path = (state_dir / "run" / f"alb-{name}.sock").resolve()
    if len(str(path)) > SOCKET_PATH_MAX:
        raise RuntimeError(f"the state folder {state_dir} is too deep for a unix socket "
                           f"({path})")
    return path


def start_balancer(supervisor: Supervisor, balancer: Balancer) -> Child:
    """Write *balancer*'s configuration, check it, and run HAProxy in the foreground."""
    binary = find_haproxy()
    folder = supervisor.state_dir / "elb"
    folder.mkdir(parents=True, exist_ok=True)
    errors = folder / f"{balancer.name}-errors"
    errors.mkdir(exist_ok=True)
    for name, response in error_files(balancer).items():
        (errors / name).write_bytes(response)
    config = folder / f"{balancer.name}.cfg"
    config.write_text(render(balancer, error_dir=errors.resolve()))
    # HAProxy binds its runtime API socket as it starts: its folder must exist before, not
    # when the supervisor first records a pid there.
    balancer.socket.parent.mkdir(parents=True, exist_ok=True)
    checked = subprocess.run([binary, "-c", "-q", "-f", str(config)], capture_output=True,
                             text=True, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"HAProxy rejects {config}:\n{checked.stdout}{checked.stderr}")
    # -db: stay in the foreground, in the supervisor's process group, so stopping the stack
    # stops it; no master process, no daemon.
    return supervisor.start(f"alb-{balancer.name}", [binary, "-db", "-f", str(config)],
                            dict(os.environ))


def status(state_dir: Path) -> dict[str, Any]:
    """Return each running balancer's targets and their health, and per-AZ figures."""
    out: dict[str, Any] = {}
    for sock in sorted((state_dir / "run").glob("alb-*.sock")):
        name = sock.stem.removeprefix("alb-")
        try:
            rows = RuntimeApi(sock).stat()
        except OSError as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        servers = [r for r in rows if r["pxname"] == name
                   and r["svname"] not in ("FRONTEND", "BACKEND")]
        targets = [{"server": r["svname"], "az": az_of(r["svname"]),
                    "address": r.get("addr", ""), "health": health_of(r["status"]),
                    "check": r.get("check_status", ""), "in_flight": int(r["scur"] or 0)}
                   for r in servers if not r["svname"].endswith(FAIL_OPEN_SUFFIX)]
        out[name] = {
            "targets": targets,
            # As an ALB, with no healthy target left it routes to all of them.
            "fail_open": not any(t["health"] == "healthy" for t in targets),
            "by_az": {az: asdict(f) for az, f in by_az(rows, name).items()},
        }
    return out
