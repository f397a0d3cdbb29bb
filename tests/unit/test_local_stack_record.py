"""The local stack's record: one model, written whole, read by every tool the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from localaws.record import NoLocalStack, StackRecord, read_record, record_path

RECORD: dict[str, Any] = {
    "gateway_url": "http://127.0.0.1:8080", "web_url": "http://127.0.0.1:8090",
    "aws": {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    "database": {"host": "127.0.0.1", "port": 3306, "user": "itinera", "name": "itinera"},
    "resources": {"BookingsTable": "itinera-dev-bookings"},
    "tasks": {"gateway-az-a-1": {"service": "gateway", "az": "az-a", "port": 8101,
                                 "pid": 41, "state": "RUNNING", "started_at": 1.5,
                                 "log": "gateway-az-a-1.log"}},
    "services": {"gateway": {"cluster": "itinera-dev", "desired": 2, "running": 1,
                             "pending": 1, "min": 2, "max": 10, "vcpu": 0.5}},
    "dead_letter_queues": {"CheckoutQueue": {"queue_url": "http://q", "dlq_url": "http://d"}},
    "time_scale": 0.1, "stage": "dev", "faults_url": None,
    "fis_configuration_location": "arn:aws:s3:::fis/fis-lambda-config/"}


def _stack_dir(tmp_path: Path) -> Path:
    (tmp_path / "run").mkdir()
    return tmp_path


def test_what_the_stack_writes_every_tool_reads_back_typed(tmp_path: Path) -> None:
    """A record written by the stack reads back equal, with typed parts."""
    state = _stack_dir(tmp_path)
    StackRecord.model_validate(RECORD).write(state)
    record = read_record(state)
    assert record == StackRecord.model_validate(RECORD)
    assert record.database.port == 3306 and record.services["gateway"].pending == 1
    assert record.dead_letter_queues["CheckoutQueue"].dlq_url == "http://d"
    assert record.tasks["gateway-az-a-1"].pid == 41
    assert not record_path(state).with_suffix(".json.tmp").exists()


def test_tasks_of_older_records_have_no_service_or_state(tmp_path: Path) -> None:
    """A task named <service>-<az> without a service or state is running, of that service."""
    state = _stack_dir(tmp_path)
    old = {**RECORD, "tasks": {"inventory-az-b": {"az": "az-b", "pid": 7}}}
    record_path(state).write_text(StackRecord.model_validate(old).model_dump_json())
    task = read_record(state).tasks["inventory-az-b"]
    assert (task.service_of("inventory-az-b"), task.state) == ("inventory", "RUNNING")


def test_no_stack_or_a_broken_record_says_how_to_start_one(tmp_path: Path) -> None:
    """Without a record the error names the folder and `itinera run`; a torn one is refused."""
    with pytest.raises(NoLocalStack, match="itinera run"):
        read_record(tmp_path)
    state = _stack_dir(tmp_path)
    record_path(state).write_text('{"gateway_url": 1}')
    with pytest.raises(NoLocalStack, match="unreadable"):
        read_record(state)
