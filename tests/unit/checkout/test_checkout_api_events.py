"""The checkout API handler reads REST API (payload 1.0) events as it reads HTTP API ones."""

from __future__ import annotations

from typing import Any

from checkout.api import as_payload_2


def test_a_rest_api_event_reads_like_payload_2(event_loader: Any) -> None:
    """Route key, lower-cased headers, claims of the Cognito authorizer and the body carry over."""
    event = as_payload_2(event_loader("rest_api_create_booking"))
    assert event["routeKey"] == "POST /v1/bookings" and event["rawPath"] == "/v1/bookings"
    assert event["headers"]["idempotency-key"] == "checkout-7f3a9c1e"
    assert event["headers"]["x-request-id"] == "req-0001"
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "3f2b9c1e-7a4d-4e8b-9c2d-1a2b3c4d5e6f"
    assert event["body"].startswith('{"hold_id"') and event["isBase64Encoded"] is False


def test_path_parameters_and_repeated_query_values_carry_over() -> None:
    """A templated resource keys the route; repeated query values are joined as 2.0 joins them."""
    event = as_payload_2({
        "resource": "/v1/bookings/{booking_id}", "path": "/v1/bookings/b1", "httpMethod": "GET",
        "headers": None, "multiValueHeaders": None, "pathParameters": {"booking_id": "b1"},
        "queryStringParameters": {"limit": "2"},
        "multiValueQueryStringParameters": {"limit": ["1", "2"]},
        "requestContext": {"requestId": "r"}, "body": None, "isBase64Encoded": False})
    assert event["routeKey"] == "GET /v1/bookings/{booking_id}"
    assert event["pathParameters"] == {"booking_id": "b1"}
    assert event["queryStringParameters"] == {"limit": "1,2"}
    assert "authorizer" not in event["requestContext"]


def test_payload_2_events_pass_unchanged(event_loader: Any) -> None:
    """An HTTP API event is already in the handler's terms."""
    event = event_loader("http_api_v2_create_booking")
    assert as_payload_2(event) is event
