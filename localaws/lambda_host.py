"""Run one Lambda function locally as AWS would: behind its HTTP API routes or its queues."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from itinera.auth import AUDIENCE, LOCAL_ISSUER, TokenVerifier
from itinera.aws import BOTO_CONFIG, session
from itinera.errors import Unauthorized
from itinera.logs import configure_logging
from itinera.serving import start_serving
from localaws.events import (
    failed_message_ids,
    http_api_event,
    http_api_response,
    rest_api_event,
    scheduled_event,
    sqs_event,
)
from localaws.functions import FunctionSpec, QueueMapping, Schedule, functions
from localaws.lambda_faults import FaultWatch
from localaws.lambda_faults import location as fault_location
from localaws.lambda_invoker import Invoker, Throttled
from localaws.resources import ACCOUNT_ID, Deployed
from localaws.template import TEMPLATE_PATH, load_sam, transform

log = logging.getLogger("itinera.lambda_host")
# Where the FIS Lambda extension reads its fault settings (set on the functions for game days).
FIS_CONFIGURATION_ENV = "AWS_FIS_CONFIGURATION_LOCATION"


def http_app(spec: FunctionSpec, invoker: Invoker, verifier: TokenVerifier | None
             ) -> web.Application:
    """Serve the function's routes as its API would, authorizer included.

    A REST API is served under its stage (`/live/v1/bookings`), as its invoke URL is.
    """

    async def dispatch(request: web.Request) -> web.StreamResponse:
        for route in spec.routes:
            path = request.path
            if route.kind == "rest":
                if not path.startswith(f"/{route.stage}/"):
                    continue
                path = path[len(route.stage) + 1:]
            params = route.match(request.method, path)
            if params is None:
                continue
            claims = None
            if route.authorizer is not None:
                if verifier is None:
                    return _gateway_error(500, "Internal Server Error")
                try:
                    claims = verifier.claims(request.headers.get("Authorization"))
                except Unauthorized:
                    return _gateway_error(401, "Unauthorized")
                wanted = set(route.authorizer.get("scopes") or [])
                if wanted and not wanted & set(str(claims.get("scope", "")).split()):
                    return _gateway_error(401, "Unauthorized")
            body = await request.read()
            source_ip = request.remote or "127.0.0.1"
            if route.kind == "rest":
                event = rest_api_event(
                    route=route, path_parameters=params, method=request.method, path=path,
                    query=request.query.items(), headers=request.headers.items(), body=body,
                    source_ip=source_ip, claims=claims)
            else:
                event = http_api_event(
                    route=route, path_parameters=params, method=request.method, path=path,
                    query=request.query.items(), raw_query=request.query_string,
                    headers=request.headers.items(), body=body, source_ip=source_ip,
                    claims=claims)
            try:
                result = await invoker.invoke(event)
            except Throttled:
                # API Gateway answers a throttled Lambda proxy integration with a 500.
                log.warning("function throttled", extra={"function": spec.name})
                return _gateway_error(500, "Internal Server Error")
            except TimeoutError:
                return _gateway_error(503, "Service Unavailable")
            except Exception:
                log.exception("function raised", extra={"function": spec.name})
                return _gateway_error(500, "Internal Server Error")
            status, headers, body = http_api_response(result)
            return web.Response(status=status, headers=headers, body=body)
        return _gateway_error(404, "Not Found")

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "function": spec.name})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/_local/health", health)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


def _gateway_error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


async def poll_queue(mapping: QueueMapping, invoker: Invoker, sqs: Any, region: str,
                     stop: asyncio.Event) -> None:
    """Long-poll the queue, invoke with batches, delete what succeeded, as a mapping does."""
    while not stop.is_set():
        try:
            messages = await _gather_batch(mapping, sqs, stop)
        except Exception:
            log.exception("receive failed", extra={"queue": mapping.queue_url})
            await asyncio.sleep(1)
            continue
        if not messages:
            continue
        ids = {m["MessageId"] for m in messages}
        try:
            result = await invoker.invoke(sqs_event(messages, queue_arn=mapping.queue_arn,
                                                    region=region))
            failed = failed_message_ids(result, ids) if mapping.report_item_failures else set()
        except Exception as exc:
            log.warning("batch failed; its messages return after the visibility timeout",
                        extra={"function": invoker.spec.name, "error": repr(exc),
                               "messages": len(messages)})
            failed = None
        done = [m for m in messages if failed is not None and m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            await sqs.delete_message_batch(QueueUrl=mapping.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start:start + 10])])


async def _gather_batch(mapping: QueueMapping, sqs: Any, stop: asyncio.Event
                        ) -> list[dict[str, Any]]:
    """Receive up to the batch size, waiting for more no longer than the batching window.

    The first receive long-polls; with no window (the template's) a batch is what it brings.
    SQS waits in whole seconds, so under a second left in the window is one short poll.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + mapping.batching_window
    wait = 2
    while len(messages) < mapping.batch_size and not stop.is_set():
        answer = await sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=min(10, mapping.batch_size - len(messages)),
            WaitTimeSeconds=wait, VisibilityTimeout=mapping.visibility_timeout,
            AttributeNames=["All"], MessageAttributeNames=["All"])
        got = answer.get("Messages", [])
        messages += got
        left = deadline - time.monotonic()
        if not messages or left <= 0 or (not got and wait == 0):
            break
        wait = 1 if left >= 1 else 0
    return messages


async def run_schedule(schedule: Schedule, invoker: Invoker, region: str,
                       stop: asyncio.Event) -> None:
    """Invoke the function once per period, as an EventBridge rule does."""
    rule_arn = f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{schedule.rule}"
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=schedule.period_seconds)
        if stop.is_set():
            return
        try:
            result = await invoker.invoke(scheduled_event(rule_arn=rule_arn, region=region))
            log.info("scheduled run", extra={"rule": schedule.rule, "result": result})
        except Exception:
            log.exception("scheduled run failed", extra={"rule": schedule.rule})


async def serve(spec: FunctionSpec, *, region: str, host: str, port: int | None) -> None:
    """Run the function's HTTP routes and queue pollers until SIGTERM or SIGINT."""
    invoker = Invoker(spec, region)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = None
    async with contextlib.AsyncExitStack() as stack:
        if spec.routes:
            jwks = os.environ.get("LOCAL_JWKS_PATH")
            authorizers = [r.authorizer for r in spec.routes if r.authorizer]
            verifier = None
            if jwks and authorizers and authorizers[0].get("type") == "cognito_user_pools":
                # The local issuer stands in for the user pool (itinera token mints for it).
                verifier = TokenVerifier.from_file(jwks, issuer=LOCAL_ISSUER, audience=AUDIENCE)
            elif jwks and authorizers:
                config = authorizers[0]
                verifier = TokenVerifier.from_file(jwks, issuer=config["issuer"],
                                                   audience=config["audience"][0])
            runner = await start_serving(http_app(spec, invoker, verifier), host=host, port=port)
            log.info("http api ready", extra={"function": spec.name, "port": port,
                                              "routes": [r.route_key for r in spec.routes]})
        pollers = []
        if config_location := os.environ.get(FIS_CONFIGURATION_ENV):
            s3 = await stack.enter_async_context(session().client("s3", config=BOTO_CONFIG))
            bucket, key = fault_location(config_location, spec.name)
            invoker.faults = FaultWatch(s3, bucket, key)
            pollers.append(asyncio.create_task(invoker.faults.run(stop)))
        if spec.queues:
            sqs = await stack.enter_async_context(session().client("sqs", config=BOTO_CONFIG))
            for mapping in spec.queues:
                # As the mapping does on AWS: several batches in flight at once.
                pollers += [asyncio.create_task(poll_queue(mapping, invoker, sqs, region, stop))
                            for _ in range(mapping.max_concurrency)]
                log.info("polling", extra={"function": spec.name, "queue": mapping.queue_url,
                                           "batch_size": mapping.batch_size})
        for schedule in spec.schedules:
            pollers.append(asyncio.create_task(run_schedule(schedule, invoker, region, stop)))
            log.info("scheduled", extra={"function": spec.name, "rule": schedule.rule,
                                         "every_seconds": schedule.period_seconds})
        await stop.wait()
        log.info("stopping", extra={"function": spec.name})
        if runner is not None:
            await runner.cleanup()
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    invoker.close()


def load_spec(deployed_path: Path, function: str) -> tuple[FunctionSpec, Deployed]:
    """Rebuild the deployed stack from its record and return one function's spec."""
    record = json.loads(deployed_path.read_text())
    template = transform(load_sam(TEMPLATE_PATH), region=record["region"],
                         parameters=record["parameters"])
    deployed = Deployed(template=template, region=record["region"],
                        stack_name=record["stack_name"], physical=record["physical"])
    return functions(deployed)[function], deployed


def main() -> None:
    """Entry point: `python -m localaws.lambda_host --function NAME`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--function", required=True)
    parser.add_argument("--deployed", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    configure_logging("lambda-host")
    spec, deployed = load_spec(args.deployed, args.function)
    # What Lambda sets in every environment, then the function's own variables.
    os.environ.update({
        "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory), "AWS_REGION": deployed.region,
        "LAMBDA_TASK_ROOT": str(Path.cwd()), "_HANDLER": spec.handler,
    })
    stand_in = os.environ.get(FIS_CONFIGURATION_ENV)
    os.environ.update(spec.environment)
    if stand_in and not os.environ.get(FIS_CONFIGURATION_ENV):
        # The template sets it only with the FIS extension layer (AWS::NoValue, "" here);
        # locally the host plays the extension, at the location the stack gave it.
        os.environ[FIS_CONFIGURATION_ENV] = stand_in
    asyncio.run(serve(spec, region=deployed.region, host=args.host, port=args.port))


if __name__ == "__main__":
    main()
