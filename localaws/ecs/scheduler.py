"""The ECS service scheduler, locally: keep each service at its desired count of tasks.

It starts tasks on ports from the stack's task range, spread over the available AZs,
registers each in its target group once it answers /ready, replaces a task that exits or
fails the target group's health checks (after the service's grace period), moves tasks out
of an AZ marked unavailable, rebalances when it returns, and drains a task (the target
group's deregistration delay) before stopping it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from localaws.config import local_seconds
from localaws.ecs.azs import AzWatcher
from localaws.ecs.model import EcsService
from localaws.ecs.placement import (
    az_for_new_task,
    az_to_rebalance,
    task_to_stop,
)
from localaws.ecs.tasks import ServiceRun, Task, placed, ready
from localaws.elb.haproxy import Balancer, Target, fail_open_args, server_args
from localaws.elb.runtime import RuntimeApi, RuntimeApiError
from localaws.processes import Supervisor, port_open, tail

TICK_SECONDS = 0.2
# How long a task may take to answer /ready before ECS gives up on it.
START_TIMEOUT = 60.0
HEALTH_FAULT_ENV = "ITINERA_HEALTH_FAULT_FILE"


class Scheduler:
    """Keep every service at its desired count; one thread, plus one per task transition."""

    def __init__(self, supervisor: Supervisor, *, ports: Sequence[int], state_dir: Path,
                 say: Callable[[str], None] = print,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.supervisor = supervisor
        self.ports = list(ports)
        self.state_dir = state_dir
        self.say = say
        self.on_change = on_change
        self.azs = AzWatcher(state_dir)
        self.services: dict[str, ServiceRun] = {}
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self.fault_dir = state_dir / "run" / "faults"

    # ------------------------------------------------------------------ control
    def add_service(self, model: EcsService, args: list[str], env: dict[str, str], *,
                    balancer: Balancer | None = None,
                    az_env: dict[str, dict[str, str]] | None = None) -> None:
        """Run *model*'s tasks from now on, registered in *balancer*'s backend if given."""
        with self.lock:
            self.services[model.name] = ServiceRun(
                model=model, args=args, env=env, az_env=az_env or {}, desired=model.desired,
                balancer=balancer,
                api=RuntimeApi(balancer.socket) if balancer else None)

    def set_desired(self, service: str, desired: int, *, low: int | None = None,
                    high: int | None = None) -> int:
        """Set *service*'s desired count within its bounds (the template's, or the scalable
        target's as registered since); return the count set."""
        with self.lock:
            run = self.services[service]
            low = run.model.min_capacity if low is None else low
            high = run.model.max_capacity if high is None else high
            run.desired = max(low, min(high, desired))
            return run.desired

    def update_service(self, service: str, desired: int) -> None:
        """Set *service*'s desired count as ECS UpdateService does: any count, 0 included
        (the scalable target's bounds hold only for autoscaling's own decisions)."""
        with self.lock:
            self.services[service].desired = max(0, desired)

    def start(self) -> None:
        """Run the scheduler in a thread until stop()."""
        self._thread = threading.Thread(target=self._loop, name="ecs-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the scheduler thread (tasks stop with the supervisor)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for worker in self._workers:
            worker.join(timeout=1)

    def wait_steady(self, service: str, *, timeout: float = START_TIMEOUT) -> None:
        """Wait until *service* runs its desired count of registered tasks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                run = self.services[service]
                running = [t for t in run.tasks if t.state == "RUNNING"]
                if len(running) >= run.desired:
                    return
                failed = [t for t in run.tasks if t.state == "STOPPED" and t.stopped_reason]
            if self._thread is None:
                self.tick()
            time.sleep(TICK_SECONDS)
        detail = "\n".join(f"{t.name}: {t.stopped_reason}\n{tail(t.child.log_path)}"
                           for t in failed[-2:])
        raise RuntimeError(f"{service} did not reach its desired count in {timeout:.0f}s\n"
                           f"{detail}")

    def snapshot(self) -> dict[str, Any]:
        """Return every service's counts and tasks, for `stack.json` and `itinera status`."""
        with self.lock:
            return {name: {
                "cluster": run.model.cluster, "desired": run.desired,
                "running": sum(t.state == "RUNNING" for t in run.tasks),
                "pending": sum(t.state == "PROVISIONING" for t in run.tasks),
                "min": run.model.min_capacity, "max": run.model.max_capacity,
                "vcpu": run.model.vcpu,
                "tasks": {t.name: t.record() for t in run.tasks if t.state != "STOPPED"},
            } for name, run in self.services.items()}

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception as exc:  # the scheduler must outlive one bad tick
                self.say(f"ecs scheduler: {type(exc).__name__}: {exc}")

    def tick(self) -> None:
        """Reap, check health, follow the AZ marks, and place or stop tasks once."""
        changed = False
        with self.lock:
            state = self.azs.state()
            available = [az for az, s in state.items() if s["available"]]
            for run in self.services.values():
                changed |= self._reap(run)
                changed |= self._check_health(run)
                changed |= self._leave_lost_azs(run, state)
                changed |= self._place(run, available)
        if changed:
            self.on_change()

    def _reap(self, run: ServiceRun) -> bool:
        changed = False
        for task in run.tasks:
            if task.active and not task.child.alive():
                code = task.child.process.returncode
                self._stopped(run, task, f"essential container exited (code {code})")
                changed = True
        return changed

    def _check_health(self, run: ServiceRun) -> bool:
        if run.api is None or run.balancer is None:
            return False
        grace = local_seconds(run.model.health_check_grace)
        try:
            states = {s.name: s for s in run.api.servers_state(run.balancer.name)}
        except (OSError, RuntimeApiError):
            return False
        changed = False
        for task in run.tasks:
            server = states.get(task.name)
            if (task.state == "RUNNING" and server is not None and task.registered is not None
                    and time.monotonic() - task.registered >= grace
                    and server.op_state == "stopped" and not server.maintenance):
                self._stop_task(run, task, "task failed ELB health checks in "
                                           f"{run.balancer.group.logical_id}", kill=True)
                changed = True
        return changed

    def _leave_lost_azs(self, run: ServiceRun, state: dict[str, dict[str, Any]]) -> bool:
        changed = False
        for task in run.tasks:
            mark = state.get(task.az, {})
            if task.active and not mark.get("available", True) and mark.get("stop_tasks"):
                self._stop_task(run, task, f"{task.az} is unavailable", kill=True)
                changed = True
        return changed

    def _place(self, run: ServiceRun, available: list[str]) -> bool:
        changed = False
        active = run.active()
        while len(active) < run.desired:
            az = az_for_new_task(placed(active), available)
            if az is None:
                return changed
            active.append(self._start_task(run, az))
            changed = True
        running = [t for t in active if t.state == "RUNNING"]
        # Start before stop: surplus tasks go only once as many as desired serve.
        while len(running) > run.desired:
            victim = task_to_stop(placed(running), available)
            assert victim is not None
            task = next(t for t in running if t.name == victim.name)
            self._stop_task(run, task, "scaling activity or rebalancing stopped the task")
            running.remove(task)
            changed = True
        if len(active) == run.desired:
            az = az_to_rebalance(placed(active), available)
            if az is not None:
                self.say(f"{run.model.name}: rebalancing, one more task in {az}")
                self._start_task(run, az)
                changed = True
        return changed

    # ------------------------------------------------------------------ tasks
    def _start_task(self, run: ServiceRun, az: str) -> Task:
        run.numbers += 1
        port = self._free_port()
        name = f"{run.model.name}-{az}-{run.numbers}"
        self.fault_dir.mkdir(parents=True, exist_ok=True)
        env = {**run.env, **run.az_env.get(az, {}), "PORT": str(port),
               "AVAILABILITY_ZONE": az, "ECS_TASK_NAME": name,
               # Test-only fault hook; only the local stack sets it (web.health reads it).
               HEALTH_FAULT_ENV: str(self.fault_dir / f"{name}.health")}
        child = self.supervisor.start(name, run.args, env, replace=True)
        task = Task(service=run.model.name, az=az, number=run.numbers, port=port, child=child)
        run.tasks.append(task)
        what = "started a replacement task" if run.replacements_due else "started"
        run.replacements_due = max(0, run.replacements_due - 1)
        self.say(f"{name}: {what} (pid {child.process.pid}, port {port})")
        self._spawn(self._bring_up, run, task)
        return task

    def _bring_up(self, run: ServiceRun, task: Task) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._stop.is_set() and time.monotonic() < deadline:
            if not task.active or not task.child.alive():
                return
            if ready(f"http://127.0.0.1:{task.port}/ready"):
                break
            time.sleep(0.1)
        else:
            with self.lock:
                if task.active:
                    self._stop_task(run, task, "task did not become ready", kill=True)
            return
        try:
            if run.api is not None and run.balancer is not None:
                target = Target(az=task.az, port=task.port, name=task.name)
                run.api.register_target(run.balancer.name, task.name,
                                        server_args(run.balancer, target),
                                        fail_open_args(target))
        except (OSError, RuntimeApiError) as exc:
            self.say(f"{task.name}: registering failed: {exc}")
            with self.lock:
                self._stop_task(run, task, f"registration failed: {exc}", kill=True)
            return
        with self.lock:
            if task.state == "PROVISIONING":
                task.state, task.registered = "RUNNING", time.monotonic()
        self.on_change()

    def _stop_task(self, run: ServiceRun, task: Task, reason: str, *, kill: bool = False
                   ) -> None:
        """Drain and stop *task*; *kill* (a failed or lost task) stops it at once."""
        task.state, task.stopped_reason, task.unplanned = "DEPROVISIONING", reason, kill
        if kill:
            run.replacements_due += 1
        self.say(f"{task.name} stopping: {reason}")
        self._spawn(self._take_down, run, task, kill)

    def _take_down(self, run: ServiceRun, task: Task, kill: bool) -> None:
        if run.api is not None and run.balancer is not None and task.registered is not None:
            delay = 0.0 if kill else local_seconds(run.balancer.group.deregistration_delay)
            with contextlib.suppress(OSError, RuntimeApiError):
                run.api.deregister(run.balancer.name, task.name, delay=delay)
        self.supervisor.stop_child(task.child, sig=signal.SIGKILL if kill else signal.SIGTERM)
        with self.lock:
            self._stopped(run, task, task.stopped_reason)
        self.on_change()

    def _stopped(self, run: ServiceRun, task: Task, reason: str) -> None:
        """Forget a task whose process is gone: its server, its port, its fault file."""
        if run.api is not None and run.balancer is not None:
            for _ in range(20):
                try:
                    run.api.remove_target(run.balancer.name, task.name)
                    break
                except RuntimeApiError:
                    time.sleep(0.05)  # connections still closing on the server
                except OSError:
                    break
        if task.state != "DEPROVISIONING":
            run.replacements_due += 1  # it died: the next placement replaces it
        self.say(f"{task.name} stopped: {reason}")
        task.state, task.stopped_reason = "STOPPED", reason
        self.supervisor.forget(task.child)
        with contextlib.suppress(OSError):
            os.unlink(self.fault_dir / f"{task.name}.health")
        # Keep the last stopped tasks only, for status and errors.
        stopped = [t for t in run.tasks if t.state == "STOPPED"]
        for old in stopped[:-10]:
            run.tasks.remove(old)

    def _free_port(self) -> int:
        used = {t.port for run in self.services.values() for t in run.tasks
                if t.state != "STOPPED"}
        for port in self.ports:
            if port not in used and not port_open("127.0.0.1", port):
                return port
        raise RuntimeError(f"no free task port left in {self.ports[0]}-{self.ports[-1]}")

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        worker = threading.Thread(target=target, args=args, daemon=True)
        self._workers = [w for w in self._workers if w.is_alive()]
        self._workers.append(worker)
        worker.start()
