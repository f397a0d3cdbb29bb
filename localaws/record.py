"""The running local stack's record, `run/stack.json`: where the tools find each part of it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
from pydantic import BaseModel, ConfigDict, ValidationError


class Part(BaseModel):
    """A piece of the record: read-only once read."""

    model_config = ConfigDict(frozen=True)


class TaskRecord(Part):
    """One ECS task of the stand-in: its service, AZ, process and port."""

    az: str
    pid: int
    # Records written before the ECS stand-in named tasks <service>-<az> and had no states.
    service: str | None = None
    state: str = "RUNNING"
    port: int | None = None
    started_at: float | None = None
    log: str | None = None
    stopped_reason: str | None = None

    def service_of(self, name: str) -> str:
        """Return the task's service, from its name *name* in older records."""
        return self.service or name.split("-az-", 1)[0]


class ServiceRecord(Part):
    """One ECS service's counts as the stand-in's scheduler last reported them."""

    cluster: str
    desired: int
    running: int
    pending: int = 0
    min: int
    max: int
    vcpu: float


class DatabaseRecord(Part):
    """Where the stack's MariaDB (Aurora's stand-in) listens, and its database."""

    host: str
    port: int
    user: str
    name: str


class RedrivePair(Part):
    """A queue with a redrive policy and its dead-letter queue."""

    queue_url: str
    dlq_url: str


class StackRecord(Part):
    """What `itinera run` writes about the stack it runs, for every tool that drives it."""

    gateway_url: str
    web_url: str
    # The operator's AWS environment: endpoint, region and credentials of the emulator.
    aws: dict[str, str]
    database: DatabaseRecord
    # Logical id in the template -> physical name or URL.
    resources: dict[str, str]
    tasks: dict[str, TaskRecord]
    services: dict[str, ServiceRecord]
    dead_letter_queues: dict[str, RedrivePair]
    time_scale: float
    stage: str
    faults_url: str | None = None
    fis_configuration_location: str | None = None

    def client(self, service: str) -> Any:
        """Return a boto3 client on the stack's emulator, with the operator's credentials."""
        return boto3.client(service, endpoint_url=self.aws["AWS_ENDPOINT_URL"],
                            region_name=self.aws["AWS_DEFAULT_REGION"],
                            aws_access_key_id=self.aws["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.aws["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=self.aws.get("AWS_SESSION_TOKEN"))

    def export_aws_env(self) -> None:
        """Point this process's AWS SDKs (aioboto3 sessions included) at the emulator."""
        os.environ.update(self.aws)

    def write(self, state_dir: Path) -> None:
        """Replace the record under *state_dir* whole: readers never see half a file."""
        path = record_path(state_dir)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)


class NoLocalStack(RuntimeError):
    """No local stack runs under the state folder (or its record is unreadable)."""


def record_path(state_dir: Path) -> Path:
    """Return where the stack running under *state_dir* keeps its record."""
    return state_dir / "run" / "stack.json"


def read_record(state_dir: Path) -> StackRecord:
    """Return the record of the stack running under *state_dir*, or raise NoLocalStack."""
    path = record_path(state_dir)
    try:
        return StackRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise NoLocalStack(f"no running local stack under {state_dir} (no {path}); start "
                           "one with `itinera run`") from None
    except (OSError, ValidationError) as exc:
        raise NoLocalStack(f"the local stack's record {path} is unreadable: {exc}") from exc
