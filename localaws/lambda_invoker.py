"""How the local Lambda host runs one invocation: context, concurrency, faults, metrics."""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from itinera.metrics import put_metric_line
from localaws.functions import FunctionSpec
from localaws.lambda_faults import Decision, FaultWatch, InjectedFault
from localaws.resources import ACCOUNT_ID

# Execution environments per function without reserved concurrency: as many as its queues
# may need at once, and a few for HTTP requests.
DEFAULT_CONCURRENCY = 12


@dataclass
class LambdaContext:
    """The context object Lambda passes to a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        """Return the function's log group name."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """Return a log stream name like Lambda's."""
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the function's timeout."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Throttled(RuntimeError):
    """The function's reserved concurrency is in use: Lambda refuses the invocation (429)."""


class Invoker:
    """Invoke the handler in a pool of threads, one per concurrent execution environment.

    Each invocation prints AWS/Lambda's metrics for it as one EMF line on stdout, per
    {FunctionName} (the function's name, as its ARN has it): Invocations, Errors (the
    handler raised or timed out), Duration (ms, one value per invocation, so percentiles
    work), ConcurrentExecutions (in flight when it started; CloudWatch reads its Maximum);
    and Throttles when reserved concurrency refuses one. The metrics agent extracts them.
    """

    def __init__(self, spec: FunctionSpec, region: str) -> None:
        self.spec = spec
        self.region = region
        module_name, function_name = spec.handler.rsplit(".", 1)
        self.handler = getattr(importlib.import_module(module_name), function_name)
        self.pool = ThreadPoolExecutor(max_workers=spec.concurrency or DEFAULT_CONCURRENCY,
                                       thread_name_prefix=spec.name)
        # Set when the function has a FIS configuration location (game days).
        self.faults: FaultWatch | None = None
        self.in_flight = 0

    def _metrics(self, figures: dict[str, float]) -> None:
        put_metric_line("AWS/Lambda", figures, {"FunctionName": self.spec.name},
                        units={"Duration": "Milliseconds"})

    async def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler once; raise `TimeoutError` past the function's timeout, and
        `Throttled` when its reserved concurrency is all in use."""
        if self.spec.concurrency is not None and self.in_flight >= self.spec.concurrency:
            self._metrics({"Throttles": 1})
            raise Throttled(f"{self.spec.name}: reserved concurrency "
                            f"{self.spec.concurrency} in use")
        context = LambdaContext(
            function_name=self.spec.name, memory_limit_in_mb=self.spec.memory,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:"
                                 f"{self.spec.name}",
            aws_request_id=str(uuid.uuid4()), deadline=time.monotonic() + self.spec.timeout)
        decision = self.faults.decision() if self.faults else Decision()
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        concurrent, started, failed = self.in_flight, time.monotonic(), True
        try:
            # A FIS fault counts as the function's own: in its duration, errors and invocations.
            if decision.delay_ms:
                await asyncio.sleep(decision.delay_ms / 1000)
            if decision.fail and not decision.run_handler:
                raise InjectedFault(f"{self.spec.name}: invocation failed by a FIS experiment")
            future = loop.run_in_executor(self.pool, self.handler, event, context)
            result = await asyncio.wait_for(
                asyncio.shield(future), timeout=context.get_remaining_time_in_millis() / 1000)
            if decision.fail:
                raise InjectedFault(f"{self.spec.name}: invocation failed by a FIS experiment")
            failed = False
            return result
        finally:
            self.in_flight -= 1
            self._metrics({"Invocations": 1, "Errors": int(failed),
                           "Duration": (time.monotonic() - started) * 1000,
                           "ConcurrentExecutions": concurrent})

    def close(self) -> None:
        """Stop the environments after their current invocations."""
        self.pool.shutdown(wait=True, cancel_futures=True)
