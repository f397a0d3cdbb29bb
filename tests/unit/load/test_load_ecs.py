"""The requests `itinera load` makes of ECS, and the commands its tasks run (the local ECS
stand-in runs them for real in tests/e2e/test_load_smoke.py)."""

from __future__ import annotations

from pathlib import Path

from loadtests.ecs import (
    EcsRun,
    run_environment,
    run_task_request,
    tokens_needed,
    worker_batches,
)
from loadtests.fargate import master_command, worker_command
from loadtests.scenarios import scenario

OUTPUTS = {"ClusterName": "itinera-dev-loadgen", "SubnetIds": "subnet-a,subnet-b",
           "MasterTaskDefinitionArn": "arn:master", "WorkerTaskDefinitionArn": "arn:worker",
           "MasterSecurityGroupId": "sg-master", "WorkerSecurityGroupId": "sg-worker"}
RUN = EcsRun(scenario=scenario("booking"), users=500, duration_s=600, shape="ramp", rate=None,
             workers=25, stack_name="itinera-loadgen-dev", stage="dev",
             host="https://itinera.example",
             report_root=Path("/r"), thresholds_path=Path("t.yaml"))


def test_the_master_runs_on_regular_fargate_with_the_runs_settings() -> None:
    """The master is one on-demand task in the private subnets with the run's environment."""
    env = run_environment(RUN, run_id="r1", prefix="runs/r1-booking")
    request = run_task_request(OUTPUTS, role="master", environment=env)
    assert request["launchType"] == "FARGATE" and "capacityProviderStrategy" not in request
    assert request["taskDefinition"] == "arn:master" and request["count"] == 1
    vpc = request["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc == {"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": "DISABLED",
                   "securityGroups": ["sg-master"]}
    (container,) = request["overrides"]["containerOverrides"]
    given = {e["name"]: e["value"] for e in container["environment"]}
    assert given["ITINERA_LOAD_TRAVELLERS"] == "Browser,Booker,TripBooker,CardTrouble"
    assert given["ITINERA_LOAD_USERS"] == "500" and given["ITINERA_LOAD_WORKERS"] == "25"


def test_workers_run_on_spot_in_batches_of_ten_with_their_own_tokens() -> None:
    """25 workers start in three RunTask calls on Fargate Spot; token slices do not overlap."""
    batches = worker_batches(RUN.workers, RUN.users)
    assert [count for _, count in batches] == [10, 10, 5]
    per_worker = 2 * 20  # 500 users over 25 workers, twice for users a spike restarts
    assert [offset for offset, _ in batches] == [0, 10 * per_worker, 20 * per_worker]
    assert tokens_needed(RUN.workers, RUN.users) == 25 * per_worker
    request = run_task_request(OUTPUTS, role="worker", environment={}, count=10)
    assert request["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT",
                                                    "weight": 1}]
    assert "launchType" not in request


def test_the_master_writes_full_history_csvs_and_waits_for_its_workers() -> None:
    """The master is headless, expects the workers, and writes what `itinera load` judges."""
    env = {**run_environment(RUN, run_id="r1", prefix="p"), "ITINERA_LOAD_MASTER_HOST": "10.0"}
    command = master_command(env, out=Path("/out"))
    assert {"--master", "--headless", "--csv-full-history"} <= set(command)
    assert "--master-bind-host" not in command  # every interface, when no address is known
    bound = master_command(env, out=Path("/out"), bind="10.60.1.7")
    assert bound[bound.index("--master-bind-host") + 1] == "10.60.1.7"
    assert command[command.index("--expect-workers") + 1] == "25"
    assert command[command.index("--csv") + 1] == "/out/locust"
    worker = worker_command(env)
    assert worker[worker.index("--master-host") + 1] == "10.0" and "--worker" in worker
