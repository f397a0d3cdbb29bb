"""Game days against a running local stack with fault proxies: one short game day with its
verdict and invariant check, then each FIS action kind applied and rolled back."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from localaws.config import local_seconds
from localaws.ecs.azs import read_az_state
from localaws.fis.effects import AlarmStopCheck, LocalEffects
from localaws.fis.executor import Outcome, RollbackFile, execute
from localaws.fis.plan import PlannedAction
from localaws.fis.targets import Target
from localaws.lambda_faults import location
from localaws.record import read_record
from localaws.stack import LocalStack
from tests.stacks import own_stack
from tests.waiting import eventually, eventually_sync

WORKER = "CheckoutWorkerFunction"


async def _steady(state: Path, *, warmed: float) -> None:
    """Wait until the warm-up's cold starts have left the shortest latency window and the
    booking path's stop condition is OK: the steady state a game day starts from (a check
    made sooner may see the alarm turn on the warm-up's own slow requests)."""
    record = read_record(state)
    check = AlarmStopCheck(record, [f"itinera-{record.stage}-booking-path-unhealthy"])
    # The 5-minute burn window, and one evaluation past it.
    aged = local_seconds(300) + local_seconds(60)

    async def steady() -> bool:
        return time.monotonic() - warmed >= aged and await check() is None

    await eventually(steady, within=aged + 120, what="the booking path's alarm OK after warm-up")


@pytest.fixture(scope="module")
def gameday_stack(tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[LocalStack]:
    """A local stack with fault proxies, as `itinera run --fault-proxies` starts it, warmed
    by a few seconds of checkouts: a game day starts from a steady state, and a fresh stack's
    Lambda environments are cold (locally they are threads of one host process, so a few
    cold starts at once take over a second each, and would fall in the fault's window)."""
    state: Path = tmp_path_factory.mktemp("gameday-stack")
    with own_stack("gameday", state, fault_proxies=True) as running:
        config = running.config
        subprocess.run([sys.executable, "-m", "cli.main", "--state-dir", str(state), "load",
                        "checkout", "--host", f"http://127.0.0.1:{config.gateway_port}",
                        "--users", "8", "--rate", "4", "--duration", "6",
                        # The quick path: locust on this machine, no tasks to start.
                        "--local-processes", "0",
                        "--report-dir", str(tmp_path_factory.mktemp("warm-up"))],
                       check=False, timeout=300, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        asyncio.run(_steady(state, warmed=time.monotonic()))
        yield running


def test_inventory_tasks_lost_in_az_a_under_load(gameday_stack: LocalStack,
                                                 tmp_path: Path) -> None:
    """GIVEN 20 s of booking load from a locust master and two workers run as ECS tasks,
    WHEN inventory's tasks in az-a are stopped by the deployed template's run copy, THEN the
    game day completes, its hypotheses hold, `itinera check` is clean, everything went
    through the AWS APIs at the stack's one endpoint (FIS, ECS, S3, CloudWatch), each call
    valid for botocore's model and within the runner's documented actions, and the report
    and JUnit XML are written."""
    from chaos.gameday import report
    from chaos.gameday.permissions import RUNNER_ACTIONS, iam_action, tagging
    from chaos.gameday.run import GamedayOptions, run_gameday, summary
    from loadtests.targets import LocalTarget
    from tests.aws_calls import recorded_calls

    state = gameday_stack.config.state_dir
    target = LocalTarget(state)
    before = {n for n, t in read_record(state).tasks.items()
              if t.service == "inventory" and t.az == "az-a"}
    with recorded_calls() as calls:
        result = run_gameday(GamedayOptions(experiment="inventory-tasks-lost-az",
                                            report_root=tmp_path, duration_s=20, users=10,
                                            settle_s=45), target)
        folder = report.write(result, target.client("cloudwatch"))
    doc = summary(result)
    # Every AWS call the runner made is one the pinned botocore's model accepts, and needs
    # only the actions the runner's role is documented to have (all of them but the stop).
    assert [(c.operation, c.problems()) for c in calls if c.problems()] == []
    actions = {a for c in calls for a in (iam_action(c.service, c.operation),
                                          *tagging(c.service, c.operation, c.params))}
    assert actions <= RUNNER_ACTIONS, actions - RUNNER_ACTIONS
    assert RUNNER_ACTIONS - actions == {"fis:StopExperiment"}
    assert result.outcome.state == "completed", doc
    stopped = next(e for e in result.outcome.events if e.kind == "applied")
    assert set(stopped.detail.removeprefix("stopped ").split(", ")) == before
    assert result.invariants.holds is True, result.invariants.as_dict()
    assert [(v.expected, v.holds) for v in result.verdicts if not v.holds] == [], doc
    assert result.passed and result.load_error is None, doc
    # The experiment ran through FIS's API: the run's copy of the deployed template is
    # gone, the experiment completed, its action's state naming the tasks it stopped.
    fis = target.client("fis")
    found = fis.get_experiment(id=result.fis["experiment_id"])["experiment"]
    assert found["state"]["status"] == "completed"
    assert found["experimentTemplateId"] == result.fis["run_template_id"]
    assert all(task in found["actions"]["stop-inventory-tasks"]["state"]["reason"]
               for task in before)
    with pytest.raises(fis.exceptions.ResourceNotFoundException):
        fis.get_experiment_template(id=result.fis["run_template_id"])
    fis.get_experiment_template(id=result.fis["template_id"])  # the deployed one stays
    # The load ran as ECS tasks, all stopped now; its results came from the bucket.
    tasks = target.client("ecs").describe_tasks(
        cluster=result.tasks[0].split("/")[1], tasks=result.tasks)["tasks"]
    assert len(tasks) == 3 and {t["lastStatus"] for t in tasks} == {"STOPPED"}
    # Its log went where the template's log configuration says, in FIS's schema.
    bucket = read_record(state).resources["FisReportsBucket"]
    s3 = target.client("s3")
    logs = s3.list_objects_v2(Bucket=bucket, Prefix="logs/inventory-tasks-lost-az/AWSLogs/")
    keys = [o["Key"] for o in logs.get("Contents", []) if found["id"] in o["Key"]]
    assert keys, f"no FIS log in {bucket}: {found['state']}"
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().decode()
    assert [json.loads(line)["log_type"] for line in body.splitlines()][-1] == "experiment-end"
    assert {"report.md", "index.html", "gameday.png", "result.json", "junit.xml",
            "locust_stats_history.csv"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "result.json").read_text())["verdict"] == "pass"
    junit = (folder / "junit.xml").read_text()
    assert 'failures="0"' in junit and "invariants hold" in junit


async def _proxies(effects: LocalEffects, session: aiohttp.ClientSession) -> dict[str, str]:
    async with session.get(f"{effects.record.faults_url}/faults") as response:
        return {p["name"]: p["fault"]["mode"] for p in (await response.json())["proxies"]}


async def _run(gameday_stack: LocalStack, action: PlannedAction, target: Target,
               during: Callable[[LocalEffects, aiohttp.ClientSession], Awaitable[bool]]
               ) -> tuple[Outcome, LocalEffects, aiohttp.ClientSession]:
    """Run one action; poll until *during* sees it applied; return after the rollback."""
    state = gameday_stack.config.state_dir
    session = aiohttp.ClientSession()
    effects = LocalEffects(state, session)

    async def never() -> str | None:
        return None

    run = asyncio.create_task(execute([action], {target.name: target}, effects,
                                      stop_check=never, poll_s=0.2,
                                      rollback=RollbackFile(state / "run" / "rb.json")))

    async def applied() -> bool:
        if await during(effects, session):
            return True
        # A timed action must be seen while it lasts; an instant one (stop-task) by its effect.
        if action.local_duration_s > 0:
            assert not run.done(), (await run).reason
        return False

    await eventually(applied, within=10, what=f"{action.action_id} seen applied")
    outcome = await run
    return outcome, effects, session


def _action(action_id: str, target: Target, parameters: dict[str, Any] | None = None, *,
            seconds: float = 3.0) -> PlannedAction:
    return PlannedAction(name="a", action_id=action_id, parameters=parameters or {},
                         targets={"T": target.name}, aws_duration_s=seconds,
                         local_duration_s=seconds)


INVENTORY_A = Target(name="t", resource_type="aws:ecs:task", azs=("az-a",), service="inventory")
CLUSTER = Target(name="t", resource_type="aws:rds:cluster")
REDIS_B = Target(name="t", resource_type="aws:elasticache:replicationgroup", azs=("az-b",))
AZ_A_PROXIES = {"mariadb-az-a", "redis-az-a", "moto-az-a"}
PROXY_ACTIONS = [
    (_action("aws:ecs:task-network-latency", INVENTORY_A,
             {"delayMilliseconds": "200", "jitterMilliseconds": "20"}),
     INVENTORY_A, AZ_A_PROXIES, "delay"),
    (_action("aws:ecs:task-network-packet-loss", INVENTORY_A, {"lossPercent": "10"}),
     INVENTORY_A, AZ_A_PROXIES, "drop"),
    (_action("aws:rds:failover-db-cluster", CLUSTER), CLUSTER, {"mariadb-az-a", "mariadb-az-b"},
     "cut"),
    (_action("aws:elasticache:replicationgroup-interrupt-az-power", REDIS_B,
             {"duration": "PT1M"}), REDIS_B, {"redis-az-b"}, "cut"),
]


@pytest.mark.parametrize(("action", "target", "names", "mode"), PROXY_ACTIONS,
                         ids=[a.action_id for a, *_ in PROXY_ACTIONS])
async def test_network_and_data_actions_go_through_the_proxies(
        gameday_stack: LocalStack, action: PlannedAction, target: Target, names: set[str],
        mode: str) -> None:
    """Each network or data-store action puts its mode on exactly the proxies it targets for
    its duration; afterwards every proxy passes again."""
    async def applied(effects: LocalEffects, session: aiohttp.ClientSession) -> bool:
        return {n for n, m in (await _proxies(effects, session)).items() if m == mode} == names

    outcome, effects, session = await _run(gameday_stack, action, target, applied)
    try:
        assert outcome.state == "completed", outcome.reason
        assert set((await _proxies(effects, session)).values()) == {"pass"}
    finally:
        await session.close()


@pytest.mark.parametrize(("action_id", "parameters"), [
    ("aws:lambda:invocation-error", {"invocationPercentage": "50"}),
    ("aws:lambda:invocation-add-delay", {"startupDelayMilliseconds": "500"})])
async def test_lambda_actions_write_then_delete_the_settings_object(
        gameday_stack: LocalStack, action_id: str, parameters: dict[str, str]) -> None:
    """A Lambda action writes the worker's FIS settings object where its host polls, the host
    picks it up, and the object is deleted at the end."""
    record = read_record(gameday_stack.config.state_dir)
    host_log = gameday_stack.config.state_dir / "logs" / f"lambda-{WORKER}.log"

    def picked_up() -> int:
        return host_log.read_text().count("fault settings changed")

    seen = picked_up()
    s3 = record.client("s3")
    assert record.fis_configuration_location is not None
    bucket, key = location(record.fis_configuration_location, WORKER)
    target = Target(name="t", resource_type="aws:lambda:function", functions=(WORKER,))

    def exists() -> bool:
        return bool(s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))

    async def written(effects: LocalEffects, session: aiohttp.ClientSession) -> bool:
        return exists() and picked_up() > seen

    outcome, _, session = await _run(gameday_stack, _action(action_id, target, parameters),
                                     target, written)
    await session.close()
    assert outcome.state == "completed", outcome.reason
    assert not exists()


async def test_stop_task_stops_the_az_tasks_and_ecs_replaces_them(
        gameday_stack: LocalStack) -> None:
    """stop-task stops inventory's az-a tasks; the scheduler starts replacements there."""
    state = gameday_stack.config.state_dir

    def az_a() -> set[str]:
        return {n for n, t in read_record(state).tasks.items()
                if t.service == "inventory" and t.az == "az-a" and t.state == "RUNNING"}

    before = az_a()

    async def replaced(effects: LocalEffects, session: aiohttp.ClientSession) -> bool:
        now = az_a()
        return bool(now) and not now & before

    outcome, _, session = await _run(gameday_stack, _action("aws:ecs:stop-task", INVENTORY_A,
                                                            seconds=0), INVENTORY_A, replaced)
    await session.close()
    assert outcome.state == "completed" and before


async def test_az_disruption_marks_the_az_down_and_cuts_it_then_restores(
        gameday_stack: LocalStack) -> None:
    """disrupt-connectivity makes az-a unavailable to the scheduler and cuts its proxies for
    its duration; after it, az-a is available and every proxy passes."""
    state = gameday_stack.config.state_dir
    subnets = Target(name="t", resource_type="aws:ec2:subnet", azs=("az-a",))

    async def down(effects: LocalEffects, session: aiohttp.ClientSession) -> bool:
        cut = {n for n, m in (await _proxies(effects, session)).items() if m == "cut"}
        return not read_az_state(state)["az-a"]["available"] and cut == {
            "mariadb-az-a", "redis-az-a", "moto-az-a"}

    outcome, effects, session = await _run(
        gameday_stack, _action("aws:network:disrupt-connectivity", subnets,
                               {"scope": "availability-zone"}), subnets, down)
    try:
        assert outcome.state == "completed", outcome.reason
        assert read_az_state(state)["az-a"]["available"]
        assert set((await _proxies(effects, session)).values()) == {"pass"}
    finally:
        await session.close()


async def test_the_deployed_templates_are_in_fis_and_a_dry_run_changes_nothing(
        gameday_stack: LocalStack) -> None:
    """GIVEN the stack, FIS lists every experiment template the template deploys (created
    from its AWS::FIS::ExperimentTemplate resources, as CloudFormation does); WHEN the
    all-tasks-lost-AZ template is started with `actionsMode` skip-all, THEN it completes with
    every action skipped, none started."""
    from chaos.experiments import load_experiments

    state = gameday_stack.config.state_dir
    record = read_record(state)
    fis = record.client("fis")
    listed = fis.list_experiment_templates()["experimentTemplates"]
    by_name = {t["tags"].get("Name"): t["id"] for t in listed}
    assert {f"itinera-{record.stage}-{e.name}" for e in load_experiments()} <= set(by_name)
    started = fis.start_experiment(
        experimentTemplateId=by_name[f"itinera-{record.stage}-all-tasks-lost-az"],
        experimentOptions={"actionsMode": "skip-all"})["experiment"]

    def ended() -> dict[str, Any] | None:
        found = fis.get_experiment(id=started["id"])["experiment"]
        return found if found["state"]["status"] in ("completed", "failed") else None

    done = await eventually(ended, within=30, what="the dry run ended")
    assert done["state"]["status"] == "completed", done["state"]
    assert {a["state"]["status"] for a in done["actions"].values()} == {"skipped"}
    # Never started: the stand-in pulled no lever (a task the scheduler replaces meanwhile
    # for its own reasons would make a task-list comparison race).
    assert not any("startTime" in a for a in done["actions"].values())


def test_gameday_abort_stops_the_experiment_and_the_load_of_a_running_game_day(
        gameday_stack: LocalStack, tmp_path: Path) -> None:
    """GIVEN a game day running through the CLI (its dependency latency applied, its load
    on ECS tasks), WHEN `itinera gameday abort` runs, THEN the experiment is stopped (its
    fault rolled back) and every load task with it, the game day ends FAIL with a report
    saying the load stopped with the experiment, and the operations topic is told."""
    state = gameday_stack.config.state_dir
    record = read_record(state)
    fis, ecs = record.client("fis"), record.client("ecs")
    inbox = _ops_inbox(record, "gameday-abort-inbox")
    cli = [sys.executable, "-m", "cli.main", "--state-dir", str(state), "gameday"]
    gameday = subprocess.Popen(
        [*cli, "run", "inventory-dependency-latency", "--duration", "40", "--users", "6",
         "--settle-seconds", "45", "--report-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def running() -> str | None:
            for experiment in fis.list_experiments()["experiments"]:
                name = experiment.get("tags", {}).get("Name", "")
                if experiment["state"]["status"] == "running" and name.startswith("gameday-"):
                    return str(experiment["id"])
            assert gameday.poll() is None, gameday.communicate()[0]
            return None

        experiment_id = eventually_sync(running, within=90, what="the game day's experiment")
        aborted = subprocess.run([*cli, "abort"], capture_output=True, text=True, timeout=120,
                                 check=False)
        out, _ = gameday.communicate(timeout=180)
    finally:
        if gameday.poll() is None:
            gameday.kill()
    assert aborted.returncode == 0, aborted.stderr
    assert f"stopped experiment {experiment_id}" in aborted.stdout
    # The load's tasks stop whoever gets there first, the abort or the runner that saw its
    # experiment stopped: every one ends STOPPED (below). The abort alone stopping tasks is
    # tests/integration/test_local_ecs_tasks.py's.
    assert gameday.returncode == 1, out
    assert "the load was stopped with the experiment" in out
    found = fis.get_experiment(id=experiment_id)["experiment"]
    assert found["state"]["status"] == "stopped"
    (folder,) = tmp_path.iterdir()
    doc = json.loads((folder / "result.json").read_text())
    assert doc["verdict"] == "fail" and doc["state"] == "stopped"
    assert doc["load_stopped_with_experiment"] is True and doc["load_error"] is None
    assert "the load was stopped with the experiment" in (folder / "report.md").read_text()
    listed = ecs.describe_tasks(cluster=doc["tasks"][0].split("/")[1], tasks=doc["tasks"])
    assert {t["lastStatus"] for t in listed["tasks"]} == {"STOPPED"}
    assert 'failures="0"' not in (folder / "junit.xml").read_text()
    # On call hears of it: FIS's state change reached the operations topic.
    def told() -> dict[str, Any] | None:
        return next((e for e in _events(record, inbox, "FIS Experiment State Change")
                     if e["detail"]["experiment-id"] == experiment_id), None)

    event = eventually_sync(told, within=30, what="the stopped experiment on the ops topic")
    assert event["detail"]["new-state"]["status"] == "stopped"
    # Nothing of the fault is left: every proxy passes traffic again.

    async def modes() -> set[str]:
        async with aiohttp.ClientSession() as session, session.get(
                f"{record.faults_url}/faults") as response:
            return {p["fault"]["mode"] for p in (await response.json())["proxies"]}

    assert asyncio.run(modes()) == {"pass"}


def _ops_inbox(record: Any, name: str) -> str:
    """A queue subscribed to the stack's operations (alarms) topic; return its URL."""
    sqs, sns = record.client("sqs"), record.client("sns")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=record.resources["AlarmsTopic"], Protocol="sqs", Endpoint=arn)
    return str(url)


def _events(record: Any, url: str, detail_type: str) -> list[dict[str, Any]]:
    """The EventBridge events of *detail_type* that reached the inbox so far."""
    found = []
    for message in record.client("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        event = json.loads(json.loads(message["Body"])["Message"])
        if isinstance(event, dict) and event.get("detail-type") == detail_type:
            found.append(event)
    return found


def test_the_scheduled_game_day_fires_on_the_scaled_clock_and_a_failure_is_told(
        gameday_stack: LocalStack) -> None:
    """GIVEN the weekly game day's schedule (deployed DISABLED, shown by `itinera status`),
    WHEN it is enabled every minute (6 s at the local time scale) with a runner that fails,
    THEN it runs the game-day runner as an ECS task, whose failure reaches the operations
    topic through the runner-failed rule; and a schedule that cannot start its task leaves
    its event in the dead-letter queue."""
    state = gameday_stack.config.state_dir
    record = read_record(state)
    scheduler, sqs = record.client("scheduler"), record.client("sqs")
    name = f"itinera-{record.stage}-gameday"
    deployed = scheduler.get_schedule(Name=name)
    assert deployed["State"] == "DISABLED"
    shown = subprocess.run([sys.executable, "-m", "cli.main", "--state-dir", str(state),
                            "status"], capture_output=True, text=True, timeout=60, check=False)
    assert f"{name}: cron(0 10 ? * TUE *): DISABLED" in shown.stdout, shown.stdout
    inbox = _ops_inbox(record, "gameday-ops-inbox")
    target = dict(deployed["Target"])
    failing = {**target, "Input": json.dumps({"containerOverrides": [{
        "name": "runner", "command": ["python", "-m", "chaos.gameday.task",
                                      "no-such-experiment"]}]})}
    settings = {"Name": name, "ScheduleExpression": "rate(1 minute)",
                "FlexibleTimeWindow": {"Mode": "OFF"}}
    scheduler.update_schedule(**settings, State="ENABLED", Target=failing)
    try:
        def told() -> dict[str, Any] | None:
            for event in _events(record, inbox, "ECS Task State Change"):
                if event["detail"]["group"].endswith("-gameday-runner"):
                    return event
            return None

        event = eventually_sync(told, within=60, what="the runner's failure on the ops topic")
        assert event["detail"]["lastStatus"] == "STOPPED"
        assert event["detail"]["containers"][0]["exitCode"] == 1
        # A schedule whose task cannot start: its event goes to the dead-letter queue.
        dlq = sqs.get_queue_url(QueueName=f"itinera-{record.stage}-gameday-dlq")["QueueUrl"]
        broken = {**target, "EcsParameters": {**target["EcsParameters"],
                                               "TaskDefinitionArn": "no-such-family:1"}}
        scheduler.update_schedule(**settings, State="ENABLED", Target=broken)

        def dead_letter() -> dict[str, Any] | None:
            got = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])
            return got["Messages"][0] if got.get("Messages") else None

        letter = eventually_sync(dead_letter, within=60, what="the dead-letter queue's event")
        assert letter["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ClientException"
    finally:
        scheduler.update_schedule(
            Name=name, ScheduleExpression=deployed["ScheduleExpression"],
            FlexibleTimeWindow=deployed["FlexibleTimeWindow"], State="DISABLED", Target=target)
