"""A small client for HAProxy's runtime API (its admin socket), and parsers for its answers."""

from __future__ import annotations

import csv
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from localaws.elb.haproxy import FAIL_OPEN_SUFFIX

AdminState = Literal["ready", "drain", "maint"]
# srv_op_state in `show servers state` (HAProxy's enum srv_state).
OP_STATES = {0: "stopped", 1: "starting", 2: "running", 3: "stopping"}
# srv_admin_state bits (management.txt): forced, inherited, configured and DNS maintenance;
# forced and inherited drain.
ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20
ADMIN_DRAIN = 0x08 | 0x10


class RuntimeApiError(RuntimeError):
    """HAProxy refused a runtime API command."""


@dataclass(frozen=True)
class ServerState:
    """One line of `show servers state`: where a server is and what HAProxy thinks of it."""

    backend: str
    name: str
    address: str
    port: int
    op_state: str
    maintenance: bool
    draining: bool
    check_health: int
    seconds_since_change: int


def parse_servers_state(text: str) -> list[ServerState]:
    """Parse the answer to `show servers state` (format version 1)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].strip() != "1":
        raise RuntimeApiError(f"unexpected `show servers state` answer: {text[:200]!r}")
    header = lines[1].lstrip("# ").split()
    out = []
    for line in lines[2:]:
        row = dict(zip(header, line.split(), strict=False))
        admin = int(row["srv_admin_state"])
        out.append(ServerState(
            backend=row["be_name"], name=row["srv_name"], address=row["srv_addr"],
            port=int(row["srv_port"]), op_state=OP_STATES.get(int(row["srv_op_state"]), "?"),
            maintenance=bool(admin & ADMIN_MAINT), draining=bool(admin & ADMIN_DRAIN),
            check_health=int(row["srv_check_health"]),
            seconds_since_change=int(row["srv_time_since_last_change"])))
    return out


def parse_stat(text: str) -> list[dict[str, str]]:
    """Parse the CSV answer to `show stat` into one dict per proxy or server line."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise RuntimeApiError(f"unexpected `show stat` answer: {text[:200]!r}")
    reader = csv.DictReader([lines[0][2:], *[line for line in lines[1:] if line]])
    return [{k: v for k, v in row.items() if k and k != "-"} for row in reader]


class RuntimeApi:
    """Send commands to one HAProxy's admin socket, one connection per command."""

    def __init__(self, path: Path, *, timeout: float = 2.0) -> None:
        self.path, self.timeout = path, timeout

    def command(self, line: str) -> str:
        """Send one command and return HAProxy's whole answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(str(self.path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers_state(self, backend: str = "") -> list[ServerState]:
        """Return every server's state, or only *backend*'s."""
        return parse_servers_state(self.command(f"show servers state {backend}".strip()))

    def stat(self) -> list[dict[str, str]]:
        """Return the statistics of every frontend, backend and server."""
        return parse_stat(self.command("show stat"))

    def set_state(self, backend: str, server: str, state: AdminState) -> None:
        """Put a server in `ready`, `drain` (no new requests) or `maint` (out of rotation)."""
        self._expect_empty(f"set server {backend}/{server} state {state}")

    def set_target_state(self, backend: str, server: str, state: AdminState) -> None:
        """Set a target's state and its fail-open twin's, so a removed target gets nothing."""
        for name in (server, server + FAIL_OPEN_SUFFIX):
            self.set_state(backend, name, state)

    def deregister(self, backend: str, server: str, *, delay: float) -> None:
        """Drain a target as ALB deregisters one: no new requests, in-flight ones finish
        within *delay* seconds, then out of rotation."""
        self.set_target_state(backend, server, "drain")
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and self._in_flight(backend, server) > 0:
            time.sleep(0.05)
        self.set_target_state(backend, server, "maint")

    def add_server(self, backend: str, server: str, args: str) -> None:
        """Register a new checked server (HAProxy 2.6: added in maintenance, checks off)."""
        answer = self.command(f"add server {backend}/{server} {args}")
        if "New server registered" not in answer:
            raise RuntimeApiError(answer.strip())
        self._expect_empty(f"enable health {backend}/{server}")
        self.set_state(backend, server, "ready")

    def register_target(self, backend: str, server: str, args: str, twin_args: str) -> None:
        """Add a checked target and its fail-open twin, as ALB's RegisterTargets does."""
        answer = self.command(f"add server {backend}/{server}{FAIL_OPEN_SUFFIX} {twin_args}")
        if "New server registered" not in answer:
            raise RuntimeApiError(answer.strip())
        self.set_state(backend, server + FAIL_OPEN_SUFFIX, "ready")
        self.add_server(backend, server, args)

    def remove_target(self, backend: str, server: str) -> None:
        """Take a target and its twin out of rotation and delete both (gone or drained)."""
        for name in (server, server + FAIL_OPEN_SUFFIX):
            try:
                self.set_state(backend, name, "maint")
                self.del_server(backend, name)
            except RuntimeApiError as exc:
                if "No such server" not in str(exc):
                    raise

    def del_server(self, backend: str, server: str) -> None:
        """Remove a server that `add server` created; it must be in maintenance and idle."""
        answer = self.command(f"del server {backend}/{server}")
        if "Server deleted" not in answer:
            raise RuntimeApiError(answer.strip())

    def _in_flight(self, backend: str, server: str) -> int:
        names = {server, server + FAIL_OPEN_SUFFIX}
        return sum(int(row.get("scur") or 0) for row in self.stat()
                   if row["pxname"] == backend and row["svname"] in names)

    def _expect_empty(self, line: str) -> None:
        answer = self.command(line).strip()
        if answer:
            raise RuntimeApiError(f"{line}: {answer}")
