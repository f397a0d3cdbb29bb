"""The import rules hold: import-linter's contracts in pyproject.toml, over every package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
KIT = "itinera"


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    """pyproject.toml, parsed."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_contract_is_kept() -> None:
    """`lint-imports` (as `make lint` runs it) reports every contract kept."""
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_contracts_cover_every_package_pip_installs(pyproject: dict[str, Any]) -> None:
    """Each package pyproject installs is a root of the rules and is the runtime kit, a service
    or a tool in every contract, so a new top-level package cannot slip past them."""
    installed = {p.rstrip("*") for p in
                 pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    rules = pyproject["tool"]["importlinter"]
    contracts = {c["name"]: c for c in rules["contracts"]}
    services = set(contracts["Services never import each other"]["modules"])
    tools = installed - services - {KIT}

    assert set(rules["root_packages"]) == installed
    assert services == {"gateway", "inventory", "checkout", "notifier"}
    assert rules["exclude_type_checking_imports"] is False
    kit = contracts["The runtime kit imports no service and no tool"]
    assert kit["source_modules"] == [KIT] and set(kit["forbidden_modules"]) == services | tools
    no_tool = contracts["Services import no tool"]
    assert set(no_tool["source_modules"]) == services
    assert set(no_tool["forbidden_modules"]) == tools
    no_cli = contracts["No tool imports the CLI"]
    assert set(no_cli["source_modules"]) == tools - {"cli"}
    assert no_cli["forbidden_modules"] == ["cli"]
    layered = {name.strip() for layer in contracts["The tools form layers"]["layers"]
               for name in layer.split("|")}
    assert layered == tools - {"cli"}
    assert set(contracts["No import circles inside a package"]["ancestors"]) == installed
