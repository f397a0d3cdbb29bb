"""Each artifact carries only what it runs: an image its packages and the runtime kit, the
checkout bundle its package and the kit, beside just the files pip needs.

No Docker engine runs here, so the images are proven from their Dockerfiles: the COPY sources
(the only way our code enters an image), the build context each image's own ignore file
admits, and the import graph (grimp, as import-linter reads it) of what each image runs, whose
third-party imports its requirements must install. The bundle's folder is listed as
`sam build` copies it; test_sam_build.py lists the built output.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import sys
import tomllib
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import grimp
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infra.conftest import ROOT, SAM_DIR, TEMPLATES, raw

DOCKER = SAM_DIR / "docker"
KIT = "itinera"
PIP_FILES = {"pyproject.toml", "constraints.txt"}
# Our packages each image carries besides the kit: a service image its service; the load
# generator the load tools and inventory, whose seed hubs the load catalog reads, and the
# game-day runner its tasks also run (chaos, with the FIS plan and the check it uses).
IMAGES = {"gateway": {"gateway"}, "inventory": {"inventory"}, "notifier": {"notifier"},
          "loadgen": {"loadtests", "inventory", "chaos", "localaws", "operations"}}
SERVICE_IMAGES = ("gateway", "inventory", "notifier")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ROOTS = tuple(sorted(p.rstrip("*") for p in
                     PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]))
# What each image pip-installs: pyproject's dependencies, and the load generator its `load` extra.
IMAGE_REQUIREMENTS = {
    image: PYPROJECT["project"]["dependencies"]
    + (PYPROJECT["project"]["optional-dependencies"]["load"] if image == "loadgen" else [])
    for image in IMAGES}
# Imported under `try: ... except ImportError` with a fallback (itinera/codings.py refuses `br`
# bodies without it): an artifact may leave it out.
OPTIONAL_IMPORTS = {"brotli"}


def instructions(dockerfile: Path) -> Iterator[tuple[str, str]]:
    """Yield each instruction of *dockerfile* as (keyword, arguments), continuations joined."""
    current = ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue  # a comment, also between continued lines
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current = (current + line).strip()
        if current:
            keyword, _, arguments = current.partition(" ")
            yield keyword.upper(), arguments.strip()
        current = ""


def copy_sources(image: str) -> set[str]:
    """Return what the image's COPY and ADD take from the build context (not from a stage)."""
    found: set[str] = set()
    for keyword, arguments in instructions(DOCKER / f"{image}.Dockerfile"):
        if keyword not in ("COPY", "ADD"):
            continue
        flags = []
        while arguments.startswith("--"):
            flag, _, arguments = arguments.partition(" ")
            flags.append(flag)
            arguments = arguments.strip()
        if any(flag.startswith("--from=") for flag in flags):
            continue
        words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        found |= {source.removeprefix("./").rstrip("/") or "." for source in words[:-1]}
    return found


def admitted(ignore_file: Path) -> set[str]:
    """Return the repository's top-level entries that *ignore_file* lets into a build context.

    Docker's rules, for top-level names: the last pattern that matches wins, `!` admits, and
    `**/` matches at the top too; patterns naming a path inside a folder cannot match here.
    """
    rules = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.removeprefix("!").strip("/")))
    kept = set()
    for name in os.listdir(ROOT):
        ignored = False
        for admits, pattern in rules:
            top = pattern.removeprefix("**/")
            if "/" not in top and fnmatch.fnmatchcase(name, top):
                ignored = not admits
        if not ignored:
            kept.add(name)
    return kept


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The import graph of every package pyproject installs and of the third-party packages
    they import (no cache folder in the tree)."""
    return grimp.build_graph(*ROOTS, include_external_packages=True, cache_dir=None)


def imported_packages(graph: grimp.ImportGraph, modules: set[str]) -> set[str]:
    """Return the top-level packages *modules* import, directly or not, with their own."""
    found = {m.split(".")[0] for m in modules}
    for module in modules:
        found |= {m.split(".")[0] for m in graph.find_upstream_modules(module)}
    return found


def third_party_imports(graph: grimp.ImportGraph, modules: set[str]) -> set[str]:
    """Return the top-level names outside ours and the standard library that *modules* need."""
    return imported_packages(graph, modules) - set(ROOTS) - set(sys.stdlib_module_names)


def installed_imports(requirements: Iterable[str]) -> set[str]:
    """Return the import names that *requirements* install with their dependencies, followed
    through the distributions installed here (pinned by constraints.txt, as in the images)."""
    todo, seen = [Requirement(r) for r in requirements], set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra})
                                            for extra in requirement.extras or {""}):
                todo.append(needed)
    distributions = {name for name, _ in seen}
    return {module for module, owners in metadata.packages_distributions().items()
            if distributions & {canonicalize_name(owner) for owner in owners}}


def entry_modules(graph: grimp.ImportGraph, image: str) -> set[str]:
    """Return what the image runs: its CMD, the commands the templates give its tasks, and for
    the load generator the locustfile its entry hands to locust."""
    named = set()
    for keyword, arguments in instructions(DOCKER / f"{image}.Dockerfile"):
        if keyword == "CMD":
            command = json.loads(arguments)
            named = {command[command.index("-m") + 1]}  # the last CMD is the one that runs
    for name in TEMPLATES:
        for resource in raw(name).get("Resources", {}).values():
            if resource["Type"] != "AWS::ECS::TaskDefinition":
                continue
            for container in resource["Properties"]["ContainerDefinitions"]:
                command = container.get("Command", [])
                if f"/itinera-{image}:" in json.dumps(container["Image"]) and "-m" in command:
                    named.add(command[command.index("-m") + 1])
    if image == "loadgen":
        from loadtests.fargate import LOCUSTFILE

        named.add(".".join(LOCUSTFILE.relative_to(ROOT).with_suffix("").parts))
    # `python -m package` runs the package's __main__ module.
    return {f"{m}.__main__" if f"{m}.__main__" in graph.modules else m for m in named}


def test_every_dockerfile_is_an_image_listed_here() -> None:
    """No Dockerfile escapes the checks below: each is one of the images with its packages."""
    assert {p.name.removesuffix(".Dockerfile") for p in DOCKER.glob("*.Dockerfile")} == \
        set(IMAGES)


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_copies_only_its_packages_the_kit_and_the_pip_files(image: str) -> None:
    """The image's COPY sources are its packages, the runtime kit, pyproject.toml and
    constraints.txt: no other service, no tool, nothing else of the repository."""
    assert copy_sources(image) == {KIT, *IMAGES[image]} | PIP_FILES


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_runs_only_what_it_copies(graph: grimp.ImportGraph, image: str) -> None:
    """GIVEN what the image runs (its CMD, the templates' commands for its tasks, the
    locustfile), WHEN their imports are followed through our packages, THEN they need exactly
    the packages the image copies: none missing at run time, none carried for nothing."""
    entries = entry_modules(graph, image)
    assert entries and entries <= graph.modules
    assert imported_packages(graph, entries) & set(ROOTS) == {KIT, *IMAGES[image]}


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_installs_every_library_it_runs(graph: grimp.ImportGraph, image: str
                                                   ) -> None:
    """Every third-party package that what the image runs imports is installed by the
    requirements the image pip-installs (pyproject's dependencies, and its extra)."""
    needed = third_party_imports(graph, entry_modules(graph, image))
    assert needed - installed_imports(IMAGE_REQUIREMENTS[image]) - OPTIONAL_IMPORTS == set()


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_context_admits_only_what_it_copies(image: str) -> None:
    """The image's own ignore file (BuildKit reads `<name>.Dockerfile.dockerignore` in place of
    the root .dockerignore) lets exactly its COPY sources into the build context, so a service
    image never sees a tool, and the load generator's sees loadtests/."""
    ignore_file = DOCKER / f"{image}.Dockerfile.dockerignore"
    assert ignore_file.exists()
    assert admitted(ignore_file) == copy_sources(image)


def test_the_root_dockerignore_admits_only_what_the_service_images_copy() -> None:
    """A builder without BuildKit reads only the root .dockerignore: it admits the runtime kit,
    the Fargate services and the pip files, and no tool."""
    assert admitted(ROOT / ".dockerignore") == \
        set().union(*(copy_sources(image) for image in SERVICE_IMAGES))


def serverless_functions() -> list[tuple[str, str, dict[str, Any]]]:
    """Return (template, logical id, properties with the template's Globals) of every SAM
    function whose code is a folder."""
    found = []
    for name in TEMPLATES:
        template = raw(name)
        defaults = template.get("Globals", {}).get("Function", {})
        for logical, resource in template.get("Resources", {}).items():
            if resource["Type"] == "AWS::Serverless::Function":
                found.append((name, logical, {**defaults, **resource["Properties"]}))
    return found


def test_there_are_function_folders_to_check() -> None:
    """The templates declare the checkout functions, so the folder checks below see them."""
    assert {logical for _, logical, _ in serverless_functions()} >= {
        "CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"}


@pytest.mark.parametrize(("template", "logical", "properties"), serverless_functions(),
                         ids=[logical for _, logical, _ in serverless_functions()])
def test_each_function_folder_holds_its_package_the_kit_and_requirements(
        graph: grimp.ImportGraph, template: str, logical: str, properties: dict[str, Any]
) -> None:
    """The folder `sam build` copies for the function holds exactly links to its handler's
    package and the runtime kit and requirements.txt, and the handler imports nothing else."""
    folder = (SAM_DIR / template).parent / properties["CodeUri"]
    package = properties["Handler"].split(".")[0]
    assert set(os.listdir(folder)) == {package, KIT, "requirements.txt"}
    for name in (package, KIT):
        assert (folder / name).resolve() == ROOT / name
    handler = properties["Handler"].rsplit(".", 1)[0]
    assert imported_packages(graph, {handler}) & set(ROOTS) == {package, KIT}
    requirements = [line for line in (folder / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith(("#", "-"))]
    needed = third_party_imports(graph, {handler})
    assert needed - installed_imports(requirements) - OPTIONAL_IMPORTS == set()
