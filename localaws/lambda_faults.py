"""The FIS Lambda extension's stand-in: failing and slow invocations in the local Lambda host.

On AWS, an experiment's `aws:lambda:invocation-error` and `aws:lambda:invocation-add-delay`
actions write their settings to the S3 location in the function's
`AWS_FIS_CONFIGURATION_LOCATION`, and the FIS extension (a layer) polls it and fails or
delays invocations. Locally the game-day executor writes the same kind of settings to the
same bucket in the emulator, one object per function (`<prefix><FunctionName>.json`), and
the host polls it the way the extension does. The object's shape is ours (FIS's own is not
documented): `{"faults": [{"action": "invocation-error", "percentage": 50,
"prevent_execution": true, "until": <epoch seconds>}, {"action": "invocation-add-delay",
"percentage": 100, "delay_ms": 800, "until": ...}]}`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("itinera.lambda_faults")
ERROR = "invocation-error"
DELAY = "invocation-add-delay"
# How often the extension looks for new settings; a fault starts at most this late.
POLL_SECONDS = 1.0


class InjectedFault(Exception):
    """An invocation the experiment made fail, as the FIS extension makes it fail."""


@dataclass(frozen=True)
class Fault:
    """One active fault: which action, for what share of invocations, until when."""

    action: str
    percentage: float
    until: float
    delay_ms: int = 0
    prevent_execution: bool = True

    def active(self, now: float) -> bool:
        """Return whether the fault still applies at *now* (epoch seconds)."""
        return now < self.until


def parse_faults(raw: bytes) -> list[Fault]:
    """Return the faults in one settings object; unknown actions are refused."""
    doc = orjson.loads(raw)
    faults = []
    for item in doc.get("faults", []):
        action = item["action"]
        if action not in (ERROR, DELAY):
            raise ValueError(f"unknown Lambda fault action {action!r}")
        faults.append(Fault(action=action, percentage=float(item.get("percentage", 100)),
                            until=float(item["until"]), delay_ms=int(item.get("delay_ms", 0)),
                            prevent_execution=bool(item.get("prevent_execution", True))))
    return faults


def settings_object(faults: list[Fault]) -> bytes:
    """Return the settings object the executor writes for *faults*."""
    return orjson.dumps({"faults": [
        {"action": f.action, "percentage": f.percentage, "until": f.until,
         "delay_ms": f.delay_ms, "prevent_execution": f.prevent_execution} for f in faults]})


def location(config_location: str, function_name: str) -> tuple[str, str]:
    """Return the bucket and key of *function_name*'s settings under an S3 ARN or URL prefix."""
    path = config_location.removeprefix("arn:aws:s3:::").removeprefix("s3://")
    bucket, _, prefix = path.partition("/")
    return bucket, f"{prefix}{function_name}.json"


@dataclass(frozen=True)
class Decision:
    """What to do to one invocation: delay it, fail it, and whether to run the handler."""

    delay_ms: int = 0
    fail: bool = False
    run_handler: bool = True


def decide(faults: list[Fault], *, now: float, roll: Any = random.random) -> Decision:
    """Return what the active *faults* do to the next invocation (each rolls its own share)."""
    delay_ms, fail, run_handler = 0, False, True
    for fault in faults:
        if not fault.active(now) or roll() * 100 >= fault.percentage:
            continue
        if fault.action == DELAY:
            delay_ms = max(delay_ms, fault.delay_ms)
        else:
            fail = True
            run_handler = run_handler and not fault.prevent_execution
    return Decision(delay_ms=delay_ms, fail=fail, run_handler=run_handler)


class FaultWatch:
    """Poll one function's settings object and answer what each invocation should suffer."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        self.faults: list[Fault] = []
        self.etag: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh the settings every POLL_SECONDS until *stop* is set."""
        while not stop.is_set():
            await self.refresh()
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            except TimeoutError:
                pass

    async def refresh(self) -> None:
        """Read the settings object; no object (or no access) means no faults."""
        try:
            answer = await self.s3.get_object(Bucket=self.bucket, Key=self.key)
            raw = await answer["Body"].read()
        except Exception as exc:  # NoSuchKey is the normal case: no experiment running
            if self.faults and "NoSuchKey" not in repr(exc):
                log.warning("could not read the fault settings", extra={"error": repr(exc)})
            self.faults, self.etag = [], None
            return
        if answer.get("ETag") != self.etag:
            self.faults, self.etag = parse_faults(raw), answer.get("ETag")
            log.warning("fault settings changed", extra={
                "faults": [f.action for f in self.faults if f.active(time.time())]})

    def decision(self) -> Decision:
        """Return what the next invocation suffers now."""
        return decide(self.faults, now=time.time()) if self.faults else Decision()
