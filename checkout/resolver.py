"""A route table served by Powertools' REST API resolver, every error a problem+json answer."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from itinera.errors import ItineraError, NotFound
from itinera.routes import Route
from itinera.web import PROBLEM_JSON

log = logging.getLogger("checkout.api")
# Methods a path may be asked with; those its routes do not name are answered 405.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class EnvironmentResolver(APIGatewayRestResolver):
    """A REST API resolver that reads the event it resolves, and no other invocation's."""

    # Powertools keeps the event being resolved on a class, shared by every resolver in the
    # process: right on Lambda, which runs one invocation per process at a time, wrong on the
    # local stack, whose execution environments are threads of one process. So each
    # environment has its own resolver, and each resolver its own event.
    _event: APIGatewayProxyEvent | None = None

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        """Return the event being resolved."""
        if self._event is None:
            raise RuntimeError("no event is being resolved")
        return self._event

    @current_event.setter
    def current_event(self, event: APIGatewayProxyEvent) -> None:
        self._event = event

    async def resolve_async(self, event: Mapping[str, Any], context: LambdaContext
                            ) -> dict[str, Any]:
        """Route *event* to its handler and return the REST API's answer."""
        self._event = APIGatewayProxyEvent(dict(event))
        try:
            return await super().resolve_async(event, context)
        finally:
            self._event = None


def route_key(event: Mapping[str, Any]) -> str:
    """Return the route API Gateway matched, as it names it (`GET /v1/bookings/{booking_id}`)."""
    return f"{event.get('httpMethod')} {event.get('resource')}"


def problem(err: ItineraError, instance: str, headers: Mapping[str, str] | None = None
            ) -> Response[str]:
    """Return *err* as a problem+json answer, with the headers it names."""
    return Response(status_code=err.status, content_type=PROBLEM_JSON,
                    body=orjson.dumps(err.problem(instance)).decode(),
                    headers={**err.headers(), **(headers or {})})


def new_resolver(routes: Iterable[Route[Callable[..., Any]]]) -> EnvironmentResolver:
    """Return a resolver for *routes*: a path's other methods are 405, unknown paths 404."""
    app = EnvironmentResolver(serializer=lambda body: orjson.dumps(body).decode())
    allowed: dict[str, list[str]] = {}
    for route in routes:
        app.route(_rule(route.path), route.method)(route.handler)
        allowed.setdefault(route.path, []).append(route.method)
    for path, methods in allowed.items():
        app.route(_rule(path), [m for m in METHODS if m not in methods])(_refusal(app, methods))

    def refused(err: ItineraError) -> Response[str]:
        return problem(err, app.current_event.path)

    def failed(_: Exception) -> Response[str]:
        log.exception("unhandled error", extra={"route": route_key(app.current_event.raw_event)})
        return problem(ItineraError(), app.current_event.path)

    # Registered by call, not as decorators: Powertools' decorators are untyped, and would
    # make the handlers untyped too.
    app.exception_handler(ItineraError)(refused)
    app.exception_handler(Exception)(failed)

    @app.not_found
    def not_found(_: NotFoundError) -> Response[str]:
        event = app.current_event
        return problem(NotFound(f"no route {event.http_method} {event.path}"), event.path)

    return app


def _rule(path: str) -> str:
    # Powertools writes a path parameter `<name>`, API Gateway and OpenAPI `{name}`.
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def _refusal(app: EnvironmentResolver, methods: list[str]) -> Callable[..., Response[str]]:
    def refuse(**_: str) -> Response[str]:
        # The words and code the gateway answers a 405 with (itinera.web).
        err = ItineraError.answered(405, "method_not_allowed", "Method Not Allowed",
                                    "Method Not Allowed")
        return problem(err, app.current_event.path, {"Allow": ", ".join(methods)})

    return refuse
