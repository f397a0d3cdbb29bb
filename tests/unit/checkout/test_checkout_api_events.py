"""The checkout API handler reads REST API (payload 1.0) events as API Gateway sends them."""

from __future__ import annotations

import json
import logging

import pytest

from tests.unit.checkout.api_calls import (
    BOOKING_BODY,
    BOOKING_ID,
    CALLER,
    RecordingService,
    call,
    rest_event,
)

TRACE = "Root=1-67891233-abcdef012345678912345678;Sampled=1"


def test_the_recorded_rest_api_event_starts_a_checkout(service: RecordingService) -> None:
    """Route, headers whatever their case, the authorizer's subject and the body carry over."""
    event = rest_event("POST", "/v1/bookings", body=json.dumps(BOOKING_BODY).encode())
    status, headers, body = call(event)
    assert (status, body) == (202, {"booking_id": BOOKING_ID, "status": "pending"})
    assert service.calls == [("start_checkout", CALLER, "checkout-7f3a9c1e", BOOKING_BODY)]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Request-Id"] == "req-0001"


def test_the_recorded_body_is_validated_before_any_checkout(service: RecordingService) -> None:
    """The recorded event's hold id is not one: a 422 problem naming it, and no checkout."""
    status, headers, body = call(rest_event("POST", "/v1/bookings", body=json.dumps(
        {**BOOKING_BODY, "hold_id": "not-a-hold"}).encode()))
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert "hold_id" in json.dumps(body) and not service.calls


def test_path_parameters_and_repeated_query_values_carry_over(service: RecordingService) -> None:
    """A path parameter reaches its operation; a repeated query value is joined, and refused."""
    status, _, _ = call(rest_event("GET", f"/v1/bookings/{BOOKING_ID}",
                                   resource="/v1/bookings/{booking_id}"))
    assert status == 200 and service.calls[-1] == ("get_booking", CALLER, BOOKING_ID)
    status, _, _ = call(rest_event("GET", "/v1/bookings", query={"limit": ["2"]}))
    assert status == 200 and service.calls[-1] == ("list_bookings", CALLER, 2, None)
    status, _, body = call(rest_event("GET", "/v1/bookings", query={"limit": ["1", "2"]}))
    assert (status, body["detail"]) == (400, "query parameter limit: not an integer")
    assert len(service.calls) == 2


def test_a_repeated_idempotency_key_is_refused_not_picked(service: RecordingService) -> None:
    """Repeated header values are joined as HTTP joins them, so two keys are no valid key."""
    event = rest_event("POST", "/v1/bookings", body=json.dumps(BOOKING_BODY).encode(),
                       headers={"Idempotency-Key": ["checkout-1111", "checkout-2222"]})
    status, _, body = call(event)
    assert (status, body["code"]) == (400, "bad_request") and not service.calls


def test_a_base64_body_is_decoded_and_a_broken_one_is_a_400(service: RecordingService) -> None:
    """API Gateway base64-encodes some bodies: decoded they check out; not base64, a 400."""
    event = rest_event("POST", "/v1/bookings", body=json.dumps(BOOKING_BODY).encode(),
                       base64_body=True)
    assert call(event)[0] == 202
    event["body"] = "not base64!"
    status, _, body = call(event)
    assert (status, body["code"], body["detail"]) == (400, "bad_request",
                                                      "the body is not valid base64")
    assert len(service.calls) == 1


def test_a_call_without_the_authorizers_subject_is_a_401(service: RecordingService) -> None:
    """Without claims (the authorizer should have refused it) nothing is read for anyone."""
    for claims in ({}, {"scope": "itinera/traveller"}):
        status, headers, body = call(rest_event("GET", "/v1/bookings", claims=claims))
        assert (status, body["code"]) == (401, "unauthorized")
        assert headers["Content-Type"] == "application/problem+json"
    assert not service.calls


def test_the_request_id_and_trace_header_follow_the_invocation(
        service: RecordingService) -> None:
    """The caller's X-Request-Id (else API Gateway's request id) and X-Ray header are the
    invocation's while it runs, and the id comes back on the answer."""
    call(rest_event("GET", "/v1/bookings", headers={"X-Amzn-Trace-Id": [TRACE]}))
    assert service.seen[-1] == ("req-0001", TRACE)
    event = rest_event("GET", "/v1/bookings")
    del event["headers"]["X-Request-Id"], event["multiValueHeaders"]["X-Request-Id"]
    _, headers, _ = call(event)
    assert headers["X-Request-Id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert service.seen[-1][0] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_each_request_is_one_log_line(service: RecordingService,
                                      caplog: pytest.LogCaptureFixture) -> None:
    """One line per request names the route API Gateway matched, the status and the time."""
    with caplog.at_level(logging.INFO, logger="checkout.api"):
        call(rest_event("POST", f"/v1/bookings/{BOOKING_ID}/cancel",
                        resource="/v1/bookings/{booking_id}/cancel"))
    (line,) = [r for r in caplog.records if r.getMessage() == "request"]
    assert line.__dict__["route"] == "POST /v1/bookings/{booking_id}/cancel"
    assert line.__dict__["status"] == 202 and line.__dict__["duration_ms"] >= 0
