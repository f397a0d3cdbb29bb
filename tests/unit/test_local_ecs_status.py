"""`itinera status` reads the stack record, the AZ marks and the scaling log."""

from __future__ import annotations

import json
import time
from pathlib import Path

from localaws.ecs.azs import read_az_state, set_az_available
from localaws.ecs.status import status, table
from localaws.record import StackRecord


def write_stack(state: Path) -> None:
    """A stack record with one gateway task and the gateway's counts."""
    run = state / "run"
    run.mkdir(parents=True)
    StackRecord.model_validate({
        "gateway_url": "http://127.0.0.1:8080", "web_url": "http://127.0.0.1:8090",
        "aws": {}, "database": {"host": "127.0.0.1", "port": 3306, "user": "itinera",
                                "name": "itinera"},
        "resources": {}, "dead_letter_queues": {}, "time_scale": 1.0, "stage": "dev",
        "services": {"gateway": {"cluster": "itinera-dev", "desired": 3, "running": 1,
                                 "pending": 0, "min": 2, "max": 10, "vcpu": 0.5}},
        "tasks": {"gateway-az-b-4": {"service": "gateway", "az": "az-b", "port": 8104,
                                     "pid": 4242, "state": "RUNNING",
                                     "started_at": time.time() - 30, "log": "x.log"}}},
    ).write(state)
    decisions = [{"at": 1.0, "service": "gateway", "action": "none", "previous": 2,
                  "desired": 2, "reason": "near target"},
                 {"at": 2.0, "service": "gateway", "action": "out", "previous": 2,
                  "desired": 3, "reason": "gateway-cpu: [70, 80, 90] > 60 on 3 datapoints"}]
    (run / "scaling.jsonl").write_text("".join(json.dumps(d) + "\n" for d in decisions))


def test_status_lists_tasks_counts_azs_and_changes(tmp_path: Path) -> None:
    """Tasks carry their age; only decisions that changed a count are listed."""
    write_stack(tmp_path)
    report = status(tmp_path)
    task = report["tasks"]["gateway-az-b-4"]
    assert 29 <= task["age_seconds"] <= 60
    assert [d["action"] for d in report["scaling"]] == ["out"]
    text = table(report)
    assert "gateway-az-b-4" in text and "out 2 -> 3" in text
    assert "az-a available, az-b available" in text


def test_an_az_marked_down_shows_and_comes_back(tmp_path: Path) -> None:
    """`itinera az down az-a` marks it unavailable (stopping its tasks); `up` clears it."""
    set_az_available(tmp_path, "az-a", False, reason="game day")
    state = read_az_state(tmp_path)
    assert state["az-a"]["available"] is False and state["az-a"]["stop_tasks"] is True
    assert state["az-b"]["available"] is True
    set_az_available(tmp_path, "az-a", True)
    assert read_az_state(tmp_path)["az-a"]["available"] is True


def test_status_shows_each_schedules_next_run_on_both_clocks(tmp_path: Path) -> None:
    """The local scheduler's plan: an enabled schedule's next AWS time and when it comes on
    the scaled clock; a disabled one says so; with no scheduler, none."""
    write_stack(tmp_path)
    assert "(none)" in table(status(tmp_path))
    soon = time.time() + 1800
    (tmp_path / "run" / "scheduler.json").write_text(json.dumps({"scale": 0.1, "schedules": [
        {"name": "itinera-dev-gameday", "group": "default", "expression": "cron(0 10 ? * TUE *)",
         "modified": "", "next_aws": "2026-12-08T10:00:00+00:00", "next_local": soon,
         "last_fired": None, "last_result": "", "state": "ENABLED"},
        {"name": "paused", "group": "default", "expression": "rate(1 day)", "modified": "",
         "next_aws": "2026-12-08T00:00:00+00:00", "next_local": soon, "last_fired": None,
         "last_result": "", "state": "DISABLED"}]}))
    text = table(status(tmp_path))
    assert ("itinera-dev-gameday: cron(0 10 ? * TUE *): next 2026-12-08T10:00:00+00:00 "
            "(locally in 0:") in text
    assert "paused: rate(1 day): DISABLED" in text


def test_status_shows_the_bounds_as_registered_and_suspended_scaling(tmp_path: Path) -> None:
    """After RegisterScalableTarget raised the gateway's maximum and suspended its scaling
    out, status shows the new maximum and says so."""
    from localaws.ecs.appscaling import register, scalable_target, write_targets

    write_stack(tmp_path)
    write_targets(tmp_path, [scalable_target("itinera-dev", "gateway", low=2, high=10)])
    register(tmp_path, {"ServiceNamespace": "ecs", "ResourceId": "service/itinera-dev/gateway",
                        "ScalableDimension": "ecs:service:DesiredCount", "MaxCapacity": 12,
                        "SuspendedState": {"DynamicScalingOutSuspended": True}})
    report = status(tmp_path)
    assert (report["services"]["gateway"]["max"], report["services"]["gateway"]["suspended"]
            ) == (12, ["out"])
    assert "out suspended" in table(report)
