"""Tasks spread over the available AZs as an ECS service spreads them."""

from __future__ import annotations

from localaws.ecs.placement import (
    Placed,
    az_for_new_task,
    az_to_rebalance,
    task_to_stop,
)

AZS = ["az-a", "az-b"]


def task(name: str, az: str, *, running: bool = True, started: float = 0) -> Placed:
    """One task."""
    return Placed(name=name, az=az, running=running, started=started)


def test_new_tasks_alternate_between_azs() -> None:
    """Each new task goes to the AZ with fewer tasks, az-a first on a tie."""
    tasks: list[Placed] = []
    for n in range(4):
        az = az_for_new_task(tasks, AZS)
        assert az is not None
        tasks.append(task(str(n), az))
    assert [t.az for t in tasks] == ["az-a", "az-b", "az-a", "az-b"]


def test_an_unavailable_az_gets_no_task() -> None:
    """While az-a is unavailable, replacements go to az-b; with none available, nowhere."""
    assert az_for_new_task([task("1", "az-b")], ["az-b"]) == "az-b"
    assert az_for_new_task([], []) is None


def test_scale_in_takes_from_the_fullest_az_newest_first() -> None:
    """With 3 tasks in az-a and 1 in az-b, the newest of az-a stops."""
    tasks = [task("a1", "az-a", started=1), task("a2", "az-a", started=5),
             task("a3", "az-a", started=3), task("b1", "az-b", started=9)]
    stopped = task_to_stop(tasks, AZS)
    assert stopped is not None and stopped.name == "a2"


def test_scale_in_takes_from_an_unavailable_az_first() -> None:
    """A task left in an unavailable AZ goes before any in an available one."""
    tasks = [task("b1", "az-b"), task("b2", "az-b"), task("a1", "az-a")]
    stopped = task_to_stop(tasks, ["az-b"])
    assert stopped is not None and stopped.name == "a1"


def test_rebalance_when_an_az_returns() -> None:
    """Four tasks in az-b and none in az-a: az-a gets one more, until they differ by one."""
    tasks = [task(f"b{n}", "az-b") for n in range(4)]
    assert az_to_rebalance(tasks, AZS) == "az-a"
    assert az_to_rebalance(tasks, ["az-b"]) is None
    assert az_to_rebalance([*tasks[:2], task("a1", "az-a")], AZS) is None


def test_no_rebalance_while_a_task_is_starting() -> None:
    """Rebalancing waits until every task serves, so it adds one task at a time."""
    tasks = [task("b1", "az-b"), task("b2", "az-b"), task("b3", "az-b", running=False)]
    assert az_to_rebalance(tasks, AZS) is None
