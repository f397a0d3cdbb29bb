"""The Lambda functions a template declares, with their HTTP routes and queue mappings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from localaws.resources import Deployed


@dataclass(frozen=True)
class Route:
    """One API route integrated with a function: a REST API (payload 1.0) or an HTTP API (2.0).

    `authorizer` is the HTTP API's JWT configuration (issuer, audience), or for a REST API's
    Cognito user pool authorizer `{"type": "cognito_user_pools", "scopes": [...]}`.
    """

    method: str
    path: str
    authorizer: dict[str, Any] | None
    kind: str = "http"
    stage: str = "$default"

    @property
    def route_key(self) -> str:
        """Return the route key as API Gateway names it (`POST /v1/bookings`)."""
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Return the path parameters if *method* and *path* fit this route, else None."""
        if method != self.method:
            return None
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class QueueMapping:
    """An SQS event source mapping with the queue's own delivery settings."""

    queue_arn: str
    queue_url: str
    batch_size: int
    batching_window: int
    report_item_failures: bool
    visibility_timeout: int
    # Batches invoked at once: the mapping's ScalingConfig, else the 5 pollers SQS mappings
    # start with on AWS.
    max_concurrency: int = 5


@dataclass(frozen=True)
class Schedule:
    """An EventBridge rule that invokes a function on a fixed rate."""

    rule: str
    expression: str

    @property
    def period_seconds(self) -> int:
        """Return the period of a `rate(N unit)` expression; cron is not supported locally."""
        found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)",
                             self.expression)
        if not found:
            raise ValueError(f"the local stack runs rate() schedules only: {self.expression}")
        unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
        return int(found.group(1)) * unit


@dataclass(frozen=True)
class FunctionSpec:
    """What the local stack needs to run one function as AWS would."""

    name: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    concurrency: int | None
    routes: list[Route] = field(default_factory=list)
    queues: list[QueueMapping] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)


def functions(deployed: Deployed) -> dict[str, FunctionSpec]:
    """Return every function in the template, wired to its routes and queues."""
    template = deployed.template
    specs: dict[str, FunctionSpec] = {}
    for name, resource in template.of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        routes, queues = _routes_for(deployed, name), _queues_for(deployed, name)
        schedules = _schedules_for(deployed, name)
        if not (routes or queues or schedules):
            # Invoked only by a service the local stack does not run (a Cognito trigger).
            continue
        env = props.get("Environment", {}).get("Variables", {})
        specs[name] = FunctionSpec(
            name=name, handler=props["Handler"], timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            environment={k: str(v) for k, v in deployed.resolve(env).items()},
            concurrency=props.get("ReservedConcurrentExecutions"),
            routes=routes, queues=queues, schedules=schedules)
    return specs


def _schedules_for(deployed: Deployed, function: str) -> list[Schedule]:
    schedules = []
    for rule, resource in deployed.template.of_type("AWS::Events::Rule").items():
        props = resource["Properties"]
        if "ScheduleExpression" not in props or props.get("State", "ENABLED") != "ENABLED":
            continue
        targets = [t.get("Arn") for t in props.get("Targets", [])]
        if {"Fn::GetAtt": [function, "Arn"]} in targets:
            schedules.append(Schedule(rule=rule,
                                      expression=deployed.resolve(props["ScheduleExpression"])))
    return schedules


def _routes_for(deployed: Deployed, function: str) -> list[Route]:
    routes = []
    apis = [("http", api, "$default") for api in
            deployed.template.of_type("AWS::ApiGatewayV2::Api").values()]
    apis += [("rest", api, "live") for api in
             deployed.template.of_type("AWS::ApiGateway::RestApi").values()]
    for kind, api, stage in apis:
        body = api["Properties"].get("Body", {})
        schemes = {**body.get("components", {}).get("securitySchemes", {}),
                   **body.get("securityDefinitions", {})}
        for path, operations in body.get("paths", {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                uri = str(integration.get("uri", {}).get("Fn::Sub", ""))
                if f"${{{function}.Arn}}" not in uri:
                    continue
                authorizer = None
                for requirement in operation.get("security", []):
                    for scheme, scopes in requirement.items():
                        config = schemes.get(scheme, {}).get("x-amazon-apigateway-authorizer", {})
                        if "jwtConfiguration" in config:
                            authorizer = deployed.resolve(config["jwtConfiguration"])
                        elif config.get("type") == "cognito_user_pools":
                            authorizer = {"type": "cognito_user_pools", "scopes": list(scopes)}
                routes.append(Route(method=method.upper(), path=path, authorizer=authorizer,
                                    kind=kind, stage=stage))
    return routes


def _queues_for(deployed: Deployed, function: str) -> list[QueueMapping]:
    mappings = []
    template = deployed.template
    for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if props.get("FunctionName") != {"Ref": function}:
            continue
        queue_arn = deployed.resolve(props["EventSourceArn"])
        queue_name = queue_arn.rsplit(":", 1)[-1]
        logical = next(k for k, v in template.of_type("AWS::SQS::Queue").items()
                       if deployed.get_att(k, "QueueName") == queue_name)
        queue_props = template.resources[logical]["Properties"]
        mappings.append(QueueMapping(
            queue_arn=queue_arn, queue_url=deployed.ref(logical),
            batch_size=int(props.get("BatchSize", 10)),
            batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes",
                                                                        []),
            visibility_timeout=int(queue_props.get("VisibilityTimeout", 30)),
            max_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 5))))
    return mappings
