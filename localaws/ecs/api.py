"""The ECS stand-in's HTTP side: the operations of localaws/ecs/runtask.py in ECS's JSON
protocol (moto's endpoint routes them here by their `X-Amz-Target`), and the tasks'
metadata endpoint."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from localaws.ecs import appscaling
from localaws.ecs.runtask import OPERATIONS, TARGET_PREFIX, EcsError, Tasks

CONTENT_TYPE = "application/x-amz-json-1.1"


def _error(exc: EcsError) -> web.Response:
    return web.Response(status=exc.status, content_type=CONTENT_TYPE,
                        text=json.dumps({"__type": exc.kind, "message": exc.message}))


def application(tasks: Tasks) -> web.Application:
    """Return the app answering RunTask, StopTask, DescribeTasks, ListTasks, metadata, and
    DescribeScalingActivities."""

    async def operation(request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith(appscaling.TARGET_PREFIX):
            return await scaling(request, target.removeprefix(appscaling.TARGET_PREFIX))
        name = target.removeprefix(TARGET_PREFIX)
        if not target.startswith(TARGET_PREFIX) or name not in OPERATIONS:
            return _error(EcsError("UnknownOperationException",
                                   f"the local ECS stand-in does not answer {target!r}"))
        try:
            body: Any = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict):
                raise EcsError("SerializationException", "the body is not a JSON object")
            if name == "RunTask":
                answer = await tasks.run_task(body)
            elif name == "StopTask":
                answer = await tasks.stop_task(body)
            elif name == "DescribeTasks":
                answer = tasks.describe_tasks(body)
            else:
                answer = tasks.list_tasks(body)
        except EcsError as exc:
            return _error(exc)
        except (KeyError, ValueError, TypeError) as exc:
            return _error(EcsError("InvalidParameterException", f"bad request: {exc}"))
        return web.Response(content_type=CONTENT_TYPE, text=json.dumps(answer))

    async def scaling(request: web.Request, name: str) -> web.Response:
        if name not in appscaling.OPERATIONS:
            return _error(EcsError("UnknownOperationException",
                                   f"the local stand-in does not answer {name!r}"))
        try:
            body: Any = json.loads(await request.read() or b"{}")
            answer = appscaling.answer(tasks.state_dir, name,
                                       body if isinstance(body, dict) else {})
        except (appscaling.ScalingApiError, ValueError, TypeError) as exc:
            return _error(EcsError("ValidationException", str(exc)))
        return web.Response(content_type=CONTENT_TYPE, text=json.dumps(answer))

    async def metadata(request: web.Request) -> web.Response:
        try:
            return web.json_response(tasks.metadata(request.match_info["task_id"]))
        except EcsError as exc:
            return _error(exc)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"tasks": len(tasks.tasks)})

    async def close(_: web.Application) -> None:
        await tasks.close()

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/", operation)
    app.router.add_get("/v4/{task_id}/task", metadata)
    app.router.add_get("/health", health)
    app.on_cleanup.append(close)
    return app
