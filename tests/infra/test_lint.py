"""The templates pass cfn-lint (informational checks included), the SAM transform and checkov."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localaws.template import Template
from tests.infra.conftest import SAM_DIR, TEMPLATES, raw

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


@pytest.mark.parametrize("name", TEMPLATES)
def test_cfn_lint_reports_nothing(name: str) -> None:
    """cfn-lint finds no error, warning or informational match, I3011 (an explicit deletion
    and replacement policy on every stateful resource) and I3013 (explicit retention)
    included; nested stacks' parameters are checked against the child templates (E3043)."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(SAM_DIR / name, config=ManualArgs(include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_sam_transform_gives_plain_cloudformation(cfn: Template) -> None:
    """The SAM transform succeeds and leaves no Serverless resource behind."""
    types = {r["Type"] for r in cfn.resources.values()}
    assert types and not any(t.startswith("AWS::Serverless::") for t in types)


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    """checkov's CloudFormation report on the template, from its own virtualenv."""
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHECKOV} is missing; `make test` creates it")
        pytest.skip(f"{CHECKOV} is missing; run `make test` once to create it")
    done = subprocess.run(
        [str(CHECKOV), "-d", str(SAM_DIR), "--framework", "cloudformation",
         "--output", "json", "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    """No checkov check fails on any template (offline checkov has no severities: all count)."""
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}"
              for c in checkov_report["results"]["failed_checks"]]
    assert failed == []
    assert checkov_report["summary"]["passed"] > 300
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_every_checkov_skip_in_the_templates_is_for_a_check_that_applies(
        checkov_report: dict[str, Any]) -> None:
    """A skip written in a template names a check checkov runs on that resource: a skip of a
    check that no longer applies (the resource changed) is a stale reason and must go."""
    written = set()
    for name in TEMPLATES:
        for logical, resource in raw(name).get("Resources", {}).items():
            skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            written |= {(logical, skip["id"]) for skip in skips}
    applied = {(c["resource"].split(".", 1)[1], c["check_id"])
               for c in checkov_report["results"]["skipped_checks"]}
    assert written - applied == set()


def test_every_checkov_skip_says_why(checkov_report: dict[str, Any]) -> None:
    """Each check skipped in the template's Metadata carries a comment with the reason."""
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped
    silent = [f"{c['check_id']} {c['resource']}" for c in skipped
              if len(str(c["check_result"].get("suppress_comment") or "").strip()) < 20]
    assert silent == []


@pytest.mark.parametrize("service", ["gateway", "inventory", "notifier"])
def test_each_service_image_runs_unprivileged_with_a_health_check(service: str) -> None:
    """Each Dockerfile builds on python:3.11-slim with the pins, drops root and checks /health."""
    text = (ROOT / "infra" / "sam" / "docker" / f"{service}.Dockerfile").read_text()
    assert text.count("FROM python:3.11-slim") == 2
    assert "pip install -c constraints.txt -r requirements.txt" in text
    assert "USER 10001" in text and "/health" in text.split("HEALTHCHECK", 1)[1]
    assert text.rstrip().endswith(f'CMD ["python", "-m", "{service}"]')


def test_checkov_passes_the_dockerfiles() -> None:
    """checkov's Dockerfile checks all pass on the three service images."""
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is missing; run `make test` once to create it")
    done = subprocess.run(
        [str(CHECKOV), "-d", str(ROOT / "infra" / "sam" / "docker"), "--framework", "dockerfile",
         "--output", "json", "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["results"]["failed_checks"] == []
    assert report["summary"]["passed"] > 0
