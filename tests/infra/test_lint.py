"""The template passes cfn-lint, the SAM transform and checkov's security checks."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from itinera.localstack.template import TEMPLATE_PATH, Template

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


def test_cfn_lint_reports_nothing() -> None:
    """cfn-lint finds no error, warning or informational match in the template."""
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE_PATH)
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
        [str(CHECKOV), "-f", str(TEMPLATE_PATH), "--framework", "cloudformation",
         "--output", "json", "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    """No checkov check fails on the template (checkov has no severities offline, so all count)."""
    failed = [f"{c['check_id']} {c['resource']}"
              for c in checkov_report["results"]["failed_checks"]]
    assert failed == []
    assert checkov_report["summary"]["passed"] > 100


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
    assert "pip install -c constraints.txt ." in text
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
