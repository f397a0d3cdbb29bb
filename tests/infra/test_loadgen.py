"""The optional load generator stack (infra/sam/loadgen.yaml) and its image."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localaws.template import load_sam

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = ROOT / "infra" / "sam" / "loadgen.yaml"
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def loadgen() -> dict[str, Any]:
    """The load generator template, short-form intrinsics decoded."""
    return load_sam(LOADGEN)


def test_cfn_lint_reports_nothing_on_the_loadgen_template() -> None:
    """cfn-lint finds no error, warning or informational match in loadgen.yaml."""
    from cfnlint.api import lint_file

    assert [str(m) for m in lint_file(LOADGEN)] == []


def test_checkov_passes_the_loadgen_template() -> None:
    """No checkov check fails on loadgen.yaml, and its one skip says why."""
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is missing; run `make test` once to create it")
    done = subprocess.run(
        [str(CHECKOV), "-f", str(LOADGEN), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == []
    assert all(len(str(c["check_result"].get("suppress_comment") or "")) >= 20
               for c in report["results"]["skipped_checks"])


def test_the_outputs_are_the_ones_itinera_load_reads(loadgen: dict[str, Any]) -> None:
    """Every stack output `itinera load` reads (loadtests/ecs.py) is declared, so they match."""
    source = (ROOT / "loadtests" / "ecs.py").read_text()
    read = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and n.value in loadgen["Outputs"]}
    role_keys = {f"{role}{suffix}" for role in ("Master", "Worker")
                 for suffix in ("TaskDefinitionArn", "SecurityGroupId")}
    assert read | role_keys | {"EgressIp"} == set(loadgen["Outputs"])


def test_workers_reach_only_the_master_and_https(loadgen: dict[str, Any]) -> None:
    """The master accepts 5557 from workers alone; workers send only HTTPS and 5557."""
    resources = loadgen["Resources"]
    master = resources["MasterSecurityGroup"]["Properties"]
    (ingress,) = master["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (5557, 5557)
    assert ingress["SourceSecurityGroupId"] == {"Ref": "WorkerSecurityGroup"}
    worker = resources["WorkerSecurityGroup"]["Properties"]
    assert {(r["FromPort"], r["ToPort"]) for r in worker["SecurityGroupEgress"]} == \
        {(443, 443), (5557, 5557)}


def test_the_results_bucket_is_private_encrypted_and_expires_runs(loadgen: dict[str, Any]
                                                                  ) -> None:
    """Run folders hold tokens: the bucket blocks public access, encrypts, and expires them."""
    bucket = loadgen["Resources"]["ResultsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "ResultsRetentionDays"}


def test_the_loadgen_image_installs_the_load_extra_and_runs_unprivileged() -> None:
    """The image is pinned by constraints.txt, installs the `load` extra, and drops root."""
    text = (ROOT / "infra" / "sam" / "docker" / "loadgen.Dockerfile").read_text()
    assert text.count("FROM python:3.11-slim") == 2
    assert "pip install -c constraints.txt -r requirements.txt" in text
    assert "*p['optional-dependencies']['load']" in text
    assert "COPY loadtests /app/loadtests" in text and "USER 10001" in text
    assert text.rstrip().endswith('CMD ["python", "-m", "loadtests.fargate", "worker"]')
