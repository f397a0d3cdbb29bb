"""The local stack's levers a FIS action pulls (tasks, AZ marks, fault proxies, Lambda
settings objects) and the stop conditions it polls (alarms in the emulator's CloudWatch)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp

from localaws.faults.client import FaultControl
from localaws.faults.model import Fault
from localaws.fis.targets import Target, running_tasks
from localaws.lambda_faults import location
from localaws.record import StackRecord, read_record


class LocalEffects:
    """Pull the running local stack's levers: tasks, AZ marks, fault proxies, Lambda faults."""

    def __init__(self, state_dir: Path, session: aiohttp.ClientSession) -> None:
        self.state_dir = state_dir
        self.record = read_record(state_dir)
        self._session = session
        self._s3: Any = None

    def _control(self) -> FaultControl:
        url = self.record.faults_url
        if not url:
            raise RuntimeError("the stack runs without fault proxies; start it with "
                               "`itinera run --fault-proxies`")
        return FaultControl(url, self._session)

    def stop_tasks(self, target: Target) -> list[str]:
        """Stop the target's running tasks as ECS does (SIGTERM); the scheduler replaces them."""
        stopped = []
        # Read again: the scheduler replaced tasks since the run began.
        for name, pid in running_tasks(read_record(self.state_dir).tasks, target):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            stopped.append(name)
        return stopped

    def set_az(self, az: str, available: bool) -> None:
        """Mark *az* for the local ECS scheduler (its tasks stop while it is unavailable)."""
        from localaws.ecs.azs import set_az_available

        set_az_available(self.state_dir, az, available, reason="game day")

    async def proxy_fault(self, fault: dict[str, Any], *, dependency: str | None,
                          az: str | None) -> list[str]:
        """Apply *fault* to the matching proxies."""
        return await self._control().apply(Fault.from_json(fault), dependency=dependency, az=az)

    async def clear_proxies(self) -> None:
        """Lift every proxy fault (nothing to do when the stack has no proxies)."""
        if self.record.faults_url:
            await self._control().clear()

    def _object(self, function: str) -> tuple[Any, str, str]:
        where = self.record.fis_configuration_location
        if not where:
            raise RuntimeError("the stack gives its functions no FIS configuration location")
        if self._s3 is None:
            self._s3 = self.record.client("s3")
        bucket, key = location(where, function)
        return self._s3, bucket, key

    async def put_lambda(self, function: str, body: bytes) -> None:
        """Write *function*'s settings object, which its Lambda host polls."""
        s3, bucket, key = self._object(function)
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    async def delete_lambda(self, function: str) -> None:
        """Delete *function*'s settings object."""
        s3, bucket, key = self._object(function)
        s3.delete_object(Bucket=bucket, Key=key)


class AlarmStopCheck:
    """Poll the stop-condition alarms' states in CloudWatch (the emulator's, or AWS's)."""

    def __init__(self, record: StackRecord | None, names: list[str], *,
                 cloudwatch: Any = None) -> None:
        self.names = names
        if cloudwatch is None and record is not None and names:
            cloudwatch = record.client("cloudwatch")
        self._cloudwatch = cloudwatch if names else None

    async def __call__(self) -> str | None:
        """Return the first stop-condition alarm in ALARM, or None."""
        if self._cloudwatch is None:
            return None
        # The client is synchronous: off the event loop (the FIS stand-in serves on it).
        found = (await asyncio.to_thread(self._cloudwatch.describe_alarms,
                                         AlarmNames=self.names))["MetricAlarms"]
        return next((a["AlarmName"] for a in found if a["StateValue"] == "ALARM"), None)
