"""`sam build` packages the checkout functions with their dependencies, and they import.

The review found the functions shipped without their dependencies (CodeUri was the repository
root, which has no requirements.txt): every invocation would have failed to import. Here
`sam build` (aws-sam-cli, in its own virtualenv) builds the whole template twice, for arm64 as
deployed and for this machine's architecture, and each handler is imported from the second
build by a clean interpreter that sees nothing but the build output.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.infra.conftest import ROOT, SAM_DIR

SAM = ROOT / ".venv" / "sam" / "bin" / "sam"
FUNCTIONS = {"CheckoutApiFunction": "checkout.api", "CheckoutWorkerFunction": "checkout.worker",
             "CheckoutReconcilerFunction": "checkout.reconciler"}
HOST = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def _build(architecture: str, into: Path) -> Path:
    done = subprocess.run(
        [str(SAM), "build", "--template-file", str(SAM_DIR / "template.yaml"),
         "--base-dir", str(SAM_DIR), "--build-dir", str(into), "--parallel",
         "--parameter-overrides", f"LambdaArchitecture={architecture}"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return into / "App" / "CheckoutApp"


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The checkout application built for arm64 (AWS) and for this machine, side by side."""
    if not SAM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SAM} is missing; `make test` creates it")
        pytest.skip(f"{SAM} is missing; run `make test` once to create it")
    wanted = sorted({"arm64", HOST})
    with ThreadPoolExecutor(len(wanted)) as pool:
        done = dict(zip(wanted, pool.map(
            lambda arch: _build(arch, tmp_path_factory.mktemp(f"sam-{arch}")), wanted),
            strict=True))
    yield done


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_handler_imports_from_the_build_in_a_clean_interpreter(
        builds: dict[str, Path], function: str) -> None:
    """GIVEN the function's build output alone on sys.path (-I -S: no site-packages, no
    working directory), WHEN its handler module is imported, THEN it imports from the build
    and exposes `handler`."""
    code = builds[HOST] / function
    module = FUNCTIONS[function]
    probe = (f"import sys; sys.path.insert(0, {str(code)!r}); import importlib; "
             f"m = importlib.import_module({module!r}); assert callable(m.handler); "
             f"assert m.__file__.startswith({str(code)!r}), m.__file__")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True,
                          text=True, timeout=120, cwd=code.parent, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_arm64_build_holds_arm64_binaries_and_only_the_functions_code(
        builds: dict[str, Path]) -> None:
    """The deployed (arm64) build has aarch64 extensions, the checkout and itinera packages,
    none of the repository's tests or state, and fits Lambda's unzipped size limit."""
    code = builds["arm64"] / "CheckoutApiFunction"
    extensions = list(code.rglob("*.so"))
    assert extensions and all("aarch64" in p.name or _elf_machine(p) == 183
                              for p in extensions)
    assert (code / "checkout" / "api.py").exists() and (code / "itinera" / "auth.py").exists()
    for absent in ("tests", ".venv", ".local", "loadtests", "infra"):
        assert not (code / absent).exists(), absent
    size = sum(p.stat().st_size for p in code.rglob("*") if p.is_file())
    assert size < LAMBDA_UNZIPPED_LIMIT


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_build_holds_the_function_packages_and_what_pip_installed_alone(
        builds: dict[str, Path], function: str) -> None:
    """Besides the files pip installed from requirements.txt (every distribution's RECORD
    lists its own), the deployed build holds exactly the checkout package, the runtime kit and
    requirements.txt: no other package, README or file of the repository."""
    code = builds["arm64"] / function
    installed = set()
    for record in code.glob("*.dist-info/RECORD"):
        installed |= {line.split(",", 1)[0].split("/", 1)[0]
                      for line in record.read_text().splitlines() if line}
    ours = {path.name for path in code.iterdir()} - installed
    assert ours == {"checkout", "itinera", "requirements.txt"}


def test_the_build_installs_the_pinned_versions(builds: dict[str, Path]) -> None:
    """Every distribution in the build is at the version constraints.txt pins, if it pins it."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if found:
            pins[_canonical(found.group(1))] = found.group(2)
    installed = {}
    for info in (builds[HOST] / "CheckoutApiFunction").glob("*.dist-info"):
        name, version = info.name[:-len(".dist-info")].rsplit("-", 1)
        installed[_canonical(name)] = version
    assert {"aioboto3", "aiohttp", "aws-lambda-powertools", "orjson", "pyjwt"} <= set(installed)
    drift = {n: (v, pins[n]) for n, v in installed.items() if n in pins and pins[n] != v}
    assert drift == {}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    return int.from_bytes(header[18:20], "little")
