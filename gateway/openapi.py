"""The public API's OpenAPI 3.1 document, served at /v1/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from itinera.web import json_response

MONEY = {"type": "object", "required": ["amount", "currency"], "properties": {
    "amount": {"type": "integer", "minimum": 0, "description": "minor units (cents)"},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
PROBLEM = {"type": "object", "required": ["type", "title", "status", "code"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "code": {"type": "string", "description": "stable, for programs to branch on"},
    "detail": {"type": "string"}, "instance": {"type": "string"}}}
FLIGHT = {"type": "object", "required": ["id", "flight_no", "origin", "destination",
                                         "departure_utc", "arrival_utc", "duration_min"],
          "properties": {
              "id": {"type": "string"}, "flight_no": {"type": "string"},
              "carrier": {"type": "string"},
              "origin": {"type": "string", "pattern": "^[A-Z]{3}$"},
              "destination": {"type": "string", "pattern": "^[A-Z]{3}$"},
              "departure_utc": {"type": "string"}, "arrival_utc": {"type": "string"},
              "departure_local": {"type": "string"}, "arrival_local": {"type": "string"},
              "duration_min": {"type": "integer"}, "cabin": {"type": "string"},
              "available": {"type": "integer", "minimum": 0},
              "fare": {"$ref": "#/components/schemas/Money"}}}
FLIGHT_ITEM = {"type": "object", "additionalProperties": False,
               "required": ["kind", "flight_id", "cabin", "quantity"], "properties": {
                   "kind": {"const": "flight"}, "flight_id": {"type": "string"},
                   "cabin": {"enum": ["economy", "business"]},
                   "quantity": {"type": "integer", "minimum": 1, "maximum": 9}}}
HOTEL_ITEM = {"type": "object", "additionalProperties": False,
              "required": ["kind", "hotel_id", "room_type", "check_in", "check_out", "rooms"],
              "properties": {
                  "kind": {"const": "hotel"}, "hotel_id": {"type": "string"},
                  "room_type": {"type": "string"}, "check_in": {"type": "string",
                                                                 "format": "date"},
                  "check_out": {"type": "string", "format": "date"},
                  "rooms": {"type": "integer", "minimum": 1, "maximum": 9}}}
HOLD = {"type": "object", "required": ["id", "status", "items", "total", "expires_at"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "customer_id": {"type": "string"},
            "status": {"enum": ["active", "confirmed", "released", "expired", "cancelled"]},
            "items": {"type": "array", "items": {"type": "object"}},
            "total": {"$ref": "#/components/schemas/Money"},
            "expires_at": {"type": "string"}, "created_at": {"type": "string"},
            "booking_id": {"type": ["string", "null"]}}}
BOOKING = {"type": "object", "required": ["booking_id", "status", "hold_id", "total"],
           "properties": {
               "booking_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
               "status": {"enum": ["pending", "confirmed", "failed", "cancelling",
                                   "cancelled"]},
               "hold_id": {"type": "string"}, "items": {"type": "array"},
               "total": {"$ref": "#/components/schemas/Money"},
               "created_at": {"type": "string"}, "updated_at": {"type": "string"},
               "failure_reason": {"type": "string"}}}
BOOKING_REQUEST = {"type": "object", "additionalProperties": False,
                   "required": ["hold_id", "payment", "contact"], "properties": {
                       "hold_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                       "payment": {"type": "object", "additionalProperties": False,
                                   "required": ["card_number"],
                                   "properties": {"card_number": {"type": "string"}}},
                       "contact": {"type": "object", "additionalProperties": False,
                                   "required": ["email"], "properties": {
                                       "email": {"type": "string", "format": "email"},
                                       "name": {"type": "string", "maxLength": 200}}}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": _ref(item)},
        "next_cursor": {"type": ["string", "null"]}}}


def _query(*names: str, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": n in required, "schema": {"type": "string"}}
            for n in names]


def _path(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in names]


PROBLEMS = {code: {"$ref": "#/components/responses/Problem"}
            for code in ("400", "401", "403", "404", "409", "422", "503")}
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
ADMIN: list[dict[str, list[str]]] = [{"bearer": ["itinera/admin"]}]


def _op(summary: str, ok: str, schema: dict[str, Any] | None, *, security: list[Any] | None =
        None, parameters: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary,
                          "responses": {ok: _json(schema or {"type": "object"}, summary),
                                        **PROBLEMS}}
    if security is not None:
        op["security"] = security
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": body}}}
    return op


def document() -> dict[str, Any]:
    """Return the OpenAPI document of the gateway's public routes."""
    status = {"type": "object", "required": ["status"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Itinera", "version": "1",
                 "description": "Search, hold, pay, confirm and cancel flights and hotels. "
                                "Errors are application/problem+json with a stable `code`; "
                                "every response carries X-Request-Id."},
        "paths": {
            "/health": {"get": _op("Liveness", "200", status, security=[])},
            "/ready": {"get": _op("Readiness of every dependency", "200", status,
                                  security=[])},
            "/v1/openapi.json": {"get": _op("This document", "200", None, security=[])},
            "/v1/flights": {"get": _op(
                "Search one-way flights", "200", _page("Flight"), security=[],
                parameters=_query("origin", "destination", "date", "passengers", "cabin",
                                  "sort", "max_price", "depart_after", "depart_before",
                                  "limit", "cursor",
                                  required=("origin", "destination", "date")))},
            "/v1/flights/{flight_id}": {"get": _op(
                "A flight with live availability", "200", _ref("Flight"), security=[],
                parameters=_path("flight_id"))},
            "/v1/hotels": {"get": _op(
                "Search hotels with rooms free every night of the stay", "200",
                {"type": "object", "required": ["items"]}, security=[],
                parameters=_query("city", "check_in", "check_out", "guests", "sort", "limit",
                                  "cursor", required=("city", "check_in", "check_out")))},
            "/v1/hotels/{hotel_id}": {"get": _op(
                "A hotel with live availability for given dates", "200", None, security=[],
                parameters=_path("hotel_id") + _query("check_in", "check_out", "guests"))},
            "/v1/holds": {"post": _op(
                "Hold seats and rooms, all or nothing (409 sold_out)", "201", _ref("Hold"),
                security=SECURED, body={"type": "object", "additionalProperties": False,
                                        "required": ["items"], "properties": {"items": {
                                            "type": "array", "minItems": 1, "maxItems": 5,
                                            "items": {"oneOf": [_ref("FlightItem"),
                                                                _ref("HotelItem")]}}}})},
            "/v1/holds/{hold_id}": {
                "get": _op("Read your hold", "200", _ref("Hold"), security=SECURED,
                           parameters=_path("hold_id")),
                "delete": _op("Release your hold", "200", _ref("Hold"), security=SECURED,
                              parameters=_path("hold_id"))},
            "/v1/bookings": {
                "post": _op("Start checkout for your hold", "202", _ref("Booking"),
                            security=SECURED, body=_ref("BookingRequest"),
                            parameters=[{"name": "Idempotency-Key", "in": "header",
                                         "required": True, "schema": {
                                             "type": "string",
                                             "pattern": "^[A-Za-z0-9_.:-]{8,128}$"}}]),
                "get": _op("Your bookings, newest first", "200", _page("Booking"),
                           security=SECURED, parameters=_query("limit", "cursor"))},
            "/v1/bookings/{booking_id}": {"get": _op(
                "Your booking", "200", _ref("Booking"), security=SECURED,
                parameters=_path("booking_id"))},
            "/v1/bookings/{booking_id}/cancel": {"post": _op(
                "Cancel, refund and release (confirmed bookings)", "202", _ref("Booking"),
                security=SECURED, parameters=_path("booking_id"))},
            "/v1/admin/flights": {"post": _op("Add a flight", "201", None, security=ADMIN,
                                              body={"type": "object"})},
            "/v1/admin/flights/{flight_id}/cabins/{cabin}": {"patch": _op(
                "Change a cabin's capacity (never below held + sold)", "200", None,
                security=ADMIN, parameters=_path("flight_id", "cabin"),
                body={"type": "object"})},
            "/v1/admin/hotels": {"post": _op("Add a hotel", "201", None, security=ADMIN,
                                             body={"type": "object"})},
            "/v1/admin/hotels/{hotel_id}/room-types/{room_type}/nights": {"patch": _op(
                "Change a room type's capacity over nights", "200", None, security=ADMIN,
                parameters=_path("hotel_id", "room_type"), body={"type": "object"})},
            "/v1/admin/holds": {"get": _op("List holds", "200", _page("Hold"), security=ADMIN,
                                           parameters=_query("status", "limit", "cursor"))},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT (RS256)"}},
            "responses": {"Problem": {"description": "RFC 9457 problem", "content": {
                "application/problem+json": {"schema": _ref("Problem")}}}},
            "schemas": {"Money": MONEY, "Problem": PROBLEM, "Flight": FLIGHT,
                        "FlightItem": FLIGHT_ITEM, "HotelItem": HOTEL_ITEM, "Hold": HOLD,
                        "Booking": BOOKING, "BookingRequest": BOOKING_REQUEST},
        },
    }


async def openapi(_: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return json_response(document())
