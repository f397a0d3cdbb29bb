"""Child processes of the local stack: start, wait until healthy, stop without leftovers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass
class Child:
    """One process the stack started, in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)
    args: list[str] = field(default_factory=list, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # Service tasks: the ECS scheduler replaces them when they die; anything else dying
    # (the emulator, a load balancer) stops the whole stack.
    replace: bool = False

    def alive(self) -> bool:
        """Return whether the process still runs."""
        return self.process.poll() is None


class Supervisor:
    """Start children, remember their pids on disk, and stop all of them."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log_dir = state_dir / "logs"
        self.pid_file = state_dir / "run" / "pids.json"
        self.children: list[Child] = []

    def reap_leftovers(self) -> list[str]:
        """Stop processes a previous run recorded and did not stop (killed -9, say)."""
        if not self.pid_file.exists():
            return []
        stopped = []
        for name, pid in json.loads(self.pid_file.read_text()).items():
            if _is_ours(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                stopped.append(f"stopped {name} (pid {pid}) left over from a previous run")
        self.pid_file.unlink()
        return stopped

    def start(self, name: str, args: list[str], env: dict[str, str], *,
              replace: bool = False) -> Child:
        """Start *args* as *name*, logging to the state folder."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        child = Child(name=name, process=self._spawn(args, env, log_file), log_path=log_path,
                      log_file=log_file, args=args, env=env, replace=replace)
        self.children.append(child)
        self._record()
        return child

    @staticmethod
    def _spawn(args: list[str], env: dict[str, str], log_file: IO[bytes]
               ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, env={**env, "ITINERA_LOCAL_STACK": "1"},
                                stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def stop_child(self, child: Child, *, sig: int = signal.SIGTERM, timeout: float = 10.0
                   ) -> None:
        """Stop one child's process group: *sig*, then SIGKILL after *timeout*."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, sig)
        try:
            child.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)

    def forget(self, child: Child) -> None:
        """Drop a child that has exited (a stopped task), closing its log."""
        if child in self.children:
            self.children.remove(child)
            child.log_file.close()
            self._record()

    def child(self, name: str) -> Child:
        """Return the child called *name*."""
        return next(c for c in self.children if c.name == name)

    def _record(self) -> None:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(json.dumps({c.name: c.process.pid for c in self.children
                                             if c.alive()}))

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM every child's group, then SIGKILL what is left after *timeout*.

        The emulator goes last: the metrics agent and the alarm evaluator write to it on
        their way out, and would wait out their connect timeouts on a stopped one.
        """
        # A copy: scheduler threads may forget a child meanwhile.
        children = list(self.children)
        late = [c for c in children if c.name == "moto"]
        early = [c for c in children if c.name != "moto"]
        for group in (early, late):
            self._stop(group, timeout)
        for child in children:
            child.log_file.close()
        self.children.clear()
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    @staticmethod
    def _stop(children: list[Child], timeout: float) -> None:
        for child in reversed(children):
            if child.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            # Children of the child (none expected) go with the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)

    def first_dead(self) -> Child | None:
        """Return a child that exited on its own and is not replaced, if any."""
        return next((c for c in self.children if not c.alive() and not c.replace), None)


def _is_ours(pid: int) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return b"ITINERA_LOCAL_STACK=1" in environ


def port_open(host: str, port: int) -> bool:
    """Return whether something accepts TCP connections on *host*:*port*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_http(url: str, *, child: Child | None, timeout: float = 60.0,
              ok: tuple[int, ...] = (200,)) -> None:
    """Wait until *url* answers one of *ok*; fail early if *child* dies."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}; "
                               f"see {child.log_path}:\n{tail(child.log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - local URL
                if resp.status in ok:
                    return
                last = str(resp.status)
        except urllib.error.HTTPError as exc:
            if exc.code in ok:
                return
            last = str(exc.code)
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready in {timeout:.0f}s (last: {last})")


def tail(path: Path, lines: int = 20) -> str:
    """Return the last *lines* lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def python() -> str:
    """Return the interpreter running the stack, so children use the same virtualenv."""
    return sys.executable
