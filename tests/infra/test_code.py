"""The code passes its linters as `make lint` runs them: ruff everywhere, and mypy, strict on
what ships (pyproject.toml's [tool.mypy] overrides for the runtime kit and the services)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHIPS = ["itinera", "gateway", "inventory", "checkout", "notifier"]
TOOLS = ["localaws", "loadtests", "chaos", "dashboards", "operations", "cli"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=300, cwd=ROOT,
                          check=False)


def test_ruff_finds_nothing() -> None:
    """`ruff check .` is clean."""
    done = _run(str(BIN / "ruff"), "check", ".")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def test_mypy_finds_nothing() -> None:
    """mypy is clean over every package."""
    done = _run(str(BIN / "mypy"), *SHIPS, *TOOLS)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def test_what_ships_is_held_to_the_strict_flags(tmp_path: Path) -> None:
    """An untyped definition in a shipped package is a mypy error; in a tool it is not."""
    for package in ("itinera", "localaws"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "probe.py").write_text("def untyped(x):\n    return x\n")
    config = str(ROOT / "pyproject.toml")
    shipped = subprocess.run([str(BIN / "mypy"), "--config-file", config, "--no-incremental",
                              "itinera/probe.py"], capture_output=True, text=True, timeout=120,
                             cwd=tmp_path, check=False)
    assert shipped.returncode == 1 and "missing a type annotation" in shipped.stdout
    tool = subprocess.run([str(BIN / "mypy"), "--config-file", config, "--no-incremental",
                           "localaws/probe.py"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert tool.returncode == 0, tool.stdout
