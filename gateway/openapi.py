"""The public API's OpenAPI 3.1 document, generated from the operations and their models."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.operations import PATH_PARAMS, Operation
from gateway.routes import OPERATIONS
from itinera.api.problems import Health, Problem
from itinera.api.types import IDEMPOTENCY_KEY
from itinera.web import IDEMPOTENCY_HEADER, json_response

REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]
# Statuses with a Retry-After header: the client should come back later.
RETRY_LATER = (429, 503)
TITLES = {400: "Malformed request (a compressed body that does not decode: "
               "`invalid_content_encoding`)",
          401: "Missing or invalid token", 403: "Not allowed",
          404: "Not found", 408: "Body too slow", 409: "Conflict with the current state",
          413: "Body too large (sent or decompressed)",
          415: "Body is not JSON (`unsupported_media_type`), or in a Content-Encoding not "
               "accepted (`unsupported_content_encoding`, with Accept-Encoding)",
          422: "Valid but impossible",
          429: "Too many requests", 503: "A dependency is unavailable; retry later"}
HEADERS = {
    "X-Request-Id": {"description": "this request's id, in every log line it caused",
                     "required": True, "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before trying again", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "Accept-Encoding": {"description": "the content codings a request body may be sent in "
                                       "(RFC 9110, 15.5.16), on a refused Content-Encoding",
                        "required": False, "schema": {"type": "string"}},
}


def _statuses(op: Operation) -> list[int]:
    statuses = {400, 503, *op.errors}
    if op.auth != "none":
        statuses.add(401)
    if op.auth == "admin":
        statuses.add(403)
    if op.body is not None:
        statuses |= {408, 413, 415}
    if op.body is not None or op.query is not None:
        statuses.add(422)
    return sorted(statuses)


def _models() -> list[tuple[type[BaseModel], Mode]]:
    out: list[tuple[type[BaseModel], Mode]] = [(Problem, "serialization"),
                                               (Health, "serialization")]
    for op in OPERATIONS:
        if op.body is not None:
            out.append((op.body, "validation"))
        if op.response is not None:
            out.append((op.response, "serialization"))
    return list(dict.fromkeys(out))


def _strip(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a field's schema as a parameter's: no title, no `null` branch."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    options = schema.pop("anyOf", None)
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        schema = {**schema, **kept[0]} if len(kept) == 1 else {**schema, "anyOf": kept}
    if schema.get("default") is None:
        schema.pop("default", None)
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             **({"description": prop["description"]} if "description" in prop else {}),
             "schema": _strip(prop)} for name, prop in schema["properties"].items()]


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": PATH_PARAMS[name][1]}
                  for name in PATH_PARAMS if f"{{{name}}}" in op.path]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if op.idempotency:
        parameters.append({"name": IDEMPOTENCY_HEADER, "in": "header",
                           "required": op.idempotency == "required",
                           "description": "one per request; a retry with the same key and "
                                          "body answers what the first attempt made",
                           "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY}$"}})
    ok: dict[str, Any] = {"description": op.summary,
                          "headers": {"X-Request-Id": {"$ref": "#/components/headers/"
                                                               "X-Request-Id"}}}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    if op.links:
        ok["links"] = op.links
    responses: dict[str, Any] = {str(op.ok): ok}
    for status in _statuses(op):
        name = "RetryLater" if status in RETRY_LATER else "Problem"
        responses[str(status)] = {"$ref": f"#/components/responses/{name}{status}"}
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": [op.tag], "responses": responses,
                           "security": ([] if op.auth == "none" else [
                               {"bearer": ["itinera/admin"] if op.auth == "admin" else []}])}
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    return out


def _problem_responses() -> dict[str, Any]:
    out = {}
    for status, title in TITLES.items():
        name = "RetryLater" if status in RETRY_LATER else "Problem"
        headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if status in RETRY_LATER:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == 415:
            headers["Accept-Encoding"] = {"$ref": "#/components/headers/Accept-Encoding"}
        out[f"{name}{status}"] = {"description": title, "headers": headers, "content": {
            "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}}
    return out


def _health(summary: str, *, ready: bool = False) -> dict[str, Any]:
    ok = {"description": summary, "content": {"application/json": {
        "schema": {"$ref": REF.format(model="Health")}}}}
    responses: dict[str, Any] = {"200": ok}
    if ready:
        responses["503"] = {**ok, "description": "a dependency failed its check"}
    return {"get": {"operationId": summary.split()[0].lower(), "summary": summary,
                    "tags": ["operations"], "security": [], "responses": responses}}


@cache
def document() -> dict[str, Any]:
    """Return the OpenAPI document of the gateway's public routes."""
    refs, defs = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, Any] = {
        "/health": _health("Liveness"),
        "/ready": _health("Readiness of every dependency", ready=True),
        "/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                     "tags": ["operations"], "security": [], "responses": {
                                         "200": {"description": "OpenAPI 3.1",
                                                 "content": {"application/json": {
                                                     "schema": {"type": "object"}}}}}}},
    }
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Itinera", "version": "1",
                 "description": "Search, hold, pay, confirm and cancel flights and hotels. "
                                "Errors are application/problem+json (RFC 9457) with a stable "
                                "`code`; every response carries X-Request-Id."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT (RS256)"}},
            "headers": HEADERS,
            "responses": _problem_responses(),
            "schemas": defs["$defs"],
        },
    }


async def openapi(_: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return json_response(document())
