"""The code passes its linters as `make lint` runs them: ruff everywhere, and mypy, strict on
what ships (pyproject.toml's [tool.mypy] overrides for the runtime kit and the services); and
the tests wait for states, never for a fixed time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHIPS = ["itinera", "gateway", "inventory", "checkout", "notifier"]
TOOLS = ["localaws", "loadtests", "chaos", "dashboards", "operations", "cli"]
TESTS = ROOT / "tests"
# The one module that may pause between polls; everything else waits through it.
WAITING = TESTS / "waiting.py"
SLEEP = re.compile(r"\bsleep\s*\(")
HAND_DEADLINE = re.compile(r"\bmonotonic\(\)\s*\+")
# What a sleep that is the behaviour under test (a slow origin, a dripping client, a pause in
# a fake) says, on its line or in the comment line just above it.
SIMULATES = "# simulates:"


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


def _test_lines(pattern: re.Pattern[str]) -> list[tuple[Path, int, str, str]]:
    """Return (file, line number, line, line above) for each line of tests/ matching."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        if path == WAITING:
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                above = lines[number - 2].strip() if number > 1 else ""
                found.append((path.relative_to(ROOT), number, line, above))
    return found


def test_no_test_sleeps_a_fixed_time() -> None:
    """Outside tests/waiting.py, every sleep is marked as simulated slowness: a fixed wait
    before an assertion passes or fails by the machine's speed, so tests wait for a state."""
    unmarked = [f"{path}:{number}: {line.strip()}"
                for path, number, line, above in _test_lines(SLEEP)
                if SIMULATES not in line and not above.startswith(SIMULATES)]
    assert not unmarked, ("wait for the state with tests.waiting.eventually, or mark a "
                          f"simulated slowness with `{SIMULATES}`:\n" + "\n".join(unmarked))


def test_no_test_writes_its_own_deadline_loop() -> None:
    """Deadlines are tests/waiting.py's: a loop adding seconds to the monotonic clock goes
    through eventually instead."""
    loops = [f"{path}:{number}: {line.strip()}"
             for path, number, line, _ in _test_lines(HAND_DEADLINE)]
    assert not loops, "use tests.waiting.eventually:\n" + "\n".join(loops)
