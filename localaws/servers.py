"""Private MariaDB and Redis servers: find the binaries, start them, wait, stop them."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

INSTALL_COMMAND = "apt-get install mariadb-server redis-server"
# Server binaries live in sbin, which a non-root PATH often lacks.
EXTRA_BIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec")
START_TIMEOUT = 30.0
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, with its terminating NUL


class DependencyMissing(RuntimeError):
    """A server the local stack needs neither answers nor can be started here."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"{detail}\n"
            f"  to install the servers: {INSTALL_COMMAND}\n"
            f"  or point at running ones: DB_HOST/DB_PORT (MariaDB), REDIS_URL (Redis)"
        )
        self.detail = detail


class PrivateServer:
    """A server this module started in its own session, which only its owner stops."""

    def __init__(
        self, name: str, process: subprocess.Popen[bytes], folder: Path, *,
        socket_path: Path | None = None,
    ) -> None:
        self.name, self.process, self.folder, self.socket_path = name, process, folder, socket_path

    def __repr__(self) -> str:
        return f"PrivateServer({self.name!r}, pid={self.process.pid}, folder={str(self.folder)!r})"

    def __enter__(self) -> PrivateServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self, timeout: float = 10) -> None:
        """Stop the server with SIGTERM, then SIGKILL if it outlives *timeout* seconds."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                return
            # The whole session, since start_new_session made the server its leader.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(wait)


def private_folder(folder: Path, *, host: str, port: int, name: str) -> Path:
    """Create *folder* for a private server, which can only listen on this machine."""
    if not is_local(host):
        raise DependencyMissing(f"{name} does not answer on {host}:{port}, "
                                "and a private server can only run on this machine")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if len(str(folder / "mysqld.sock")) > SOCKET_PATH_MAX:
        raise DependencyMissing(f"{name}: the state folder {folder} is too deep for a unix socket")
    return folder


def spawn(argv: list[str], folder: Path) -> subprocess.Popen[bytes]:
    """Start *argv* in its own session with output appended to a log in *folder*."""
    with (folder / "server.out").open("ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)


def wait_until_ready(server: PrivateServer, ready: Callable[[], bool], log: Path) -> None:
    """Wait until *ready* holds; stop the server and raise if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise DependencyMissing(
                f"{server.name}: the private server in {server.folder} did not start "
                f"(exit code {server.process.returncode}); last lines of {log}:\n" + tail(log)
            )
        time.sleep(0.2)


def is_local(host: str) -> bool:
    """Return whether *host* names this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_binary(*names: str) -> str | None:
    """Return the path of the first of *names* found on PATH or in the sbin folders."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *EXTRA_BIN_DIRS])
    return next((found for name in names if (found := shutil.which(name, path=search))), None)


def tail(path: Path, lines: int = 15) -> str:
    """Return the last *lines* lines of *path*, or a note that it is missing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} is missing)"
