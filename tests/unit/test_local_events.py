"""The local stack builds the events AWS builds, and reads handler answers as AWS does."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from localaws.events import (
    failed_message_ids,
    http_api_event,
    http_api_response,
    sqs_event,
)
from localaws.functions import Route, Schedule

ROUTE = Route(method="GET", path="/v1/bookings/{booking_id}", authorizer=None)


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def test_route_matches_path_parameters_and_method() -> None:
    """A route template captures its parameters and refuses other methods and paths."""
    assert ROUTE.match("GET", "/v1/bookings/abc") == {"booking_id": "abc"}
    assert ROUTE.match("POST", "/v1/bookings/abc") is None
    assert ROUTE.match("GET", "/v1/bookings/abc/cancel") is None
    assert ROUTE.route_key == "GET /v1/bookings/{booking_id}"


def test_http_event_has_the_shape_of_a_real_payload_2_event(event_loader: Any) -> None:
    """Our event carries the same keys and types as a recorded API Gateway 2.0 event."""
    real = event_loader("http_api_v2_create_booking")
    ours = http_api_event(
        route=Route(method="POST", path="/v1/bookings", authorizer={}),
        path_parameters={}, method="POST", path="/v1/bookings", query=[], raw_query="",
        headers=[("Content-Type", "application/json"), ("Host", "x"),
                 ("Idempotency-Key", "k1")],
        body=b'{"a": 1}', source_ip="127.0.0.1", claims={"sub": "alice", "exp": 1})
    assert set(ours) == set(real)
    assert _shape(ours["requestContext"]["http"]) == _shape(real["requestContext"]["http"])
    assert set(ours["requestContext"]) == set(real["requestContext"])
    assert ours["headers"]["idempotency-key"] == "k1"
    assert ours["requestContext"]["authorizer"]["jwt"]["claims"] == {"sub": "alice", "exp": "1"}
    assert ours["body"] == '{"a": 1}' and ours["isBase64Encoded"] is False


def test_http_event_joins_repeated_headers_and_query_values() -> None:
    """Repeated headers and query parameters are joined with commas, cookies split out."""
    event = http_api_event(route=ROUTE, path_parameters={"booking_id": "b"}, method="GET",
                           path="/v1/bookings/b", query=[("x", "1"), ("x", "2")],
                           raw_query="x=1&x=2", headers=[("X-A", "1"), ("x-a", "2"),
                                                         ("Cookie", "s=1; t=2")],
                           body=b"", source_ip="127.0.0.1", claims=None)
    assert event["headers"]["x-a"] == "1,2"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "body" not in event and "authorizer" not in event["requestContext"]


def test_binary_bodies_are_base64_encoded() -> None:
    """A body that is not text reaches the function base64-encoded."""
    event = http_api_event(route=ROUTE, path_parameters={}, method="GET", path="/",
                           query=[], raw_query="",
                           headers=[("Content-Type", "application/octet-stream")],
                           body=b"\x00\x01", source_ip="127.0.0.1", claims=None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01"


def test_handler_answers_become_http_responses() -> None:
    """A statusCode answer is used as is; anything else is 200 JSON, as payload 2.0 infers."""
    assert http_api_response({"statusCode": 202, "headers": {"a": "b"}, "body": "{}"}) == \
        (202, {"a": "b"}, b"{}")
    assert http_api_response({"ok": True}) == (200, {"content-type": "application/json"},
                                               b'{"ok":true}')


def test_a_rest_api_answer_may_carry_multi_value_headers() -> None:
    """As a REST API reads them: every value of `multiValueHeaders`, which win over `headers`."""
    status, headers, body = http_api_response({
        "statusCode": 405, "body": "{}", "headers": {"Allow": "PUT", "X-A": "1"},
        "multiValueHeaders": {"Allow": ["GET", "POST"], "Content-Type": ["application/json"]}})
    assert (status, body) == (405, b"{}")
    assert headers.getall("allow") == ["GET", "POST"]
    assert headers["x-a"] == "1" and headers["content-type"] == "application/json"


def test_sqs_event_has_the_shape_of_a_real_batch(event_loader: Any) -> None:
    """Our SQS batch event carries the same record keys as a recorded one."""
    real = event_loader("sqs_checkout_batch")["Records"][0]
    ours = sqs_event([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}",
                       "Attributes": {"ApproximateReceiveCount": "2"}, "MD5OfBody": "x"}],
                     queue_arn="arn:aws:sqs:eu-west-1:123456789012:q", region="eu-west-1")
    record = ours["Records"][0]
    assert set(record) == set(real)
    assert set(record["attributes"]) == set(real["attributes"])
    assert record["attributes"]["ApproximateReceiveCount"] == "2"


def test_partial_batch_failures_are_read_as_aws_reads_them() -> None:
    """Listed ids fail alone; a malformed answer or an unknown id fails the whole batch."""
    ids = {"a", "b"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{}]}, ids) is None
    assert failed_message_ids("nonsense", ids) is None


def test_schedules_run_rate_expressions_only() -> None:
    """`rate(N unit)` gives a period in seconds; cron expressions are refused locally."""
    assert Schedule(rule="r", expression="rate(5 minutes)").period_seconds == 300
    assert Schedule(rule="r", expression="rate(1 hour)").period_seconds == 3600
    with pytest.raises(ValueError, match="rate"):
        _ = Schedule(rule="r", expression="cron(0 12 * * ? *)").period_seconds


def test_rest_event_has_the_shape_of_a_real_payload_1_event(event_loader: Any) -> None:
    """Our REST API event carries the keys of a private REST API's proxy event with a
    Cognito authorizer: headers as sent, the stage in requestContext.path, claims as strings."""
    from localaws.events import rest_api_event

    real = event_loader("rest_api_create_booking")
    route = Route(method="POST", path="/v1/bookings", authorizer={}, kind="rest", stage="live")
    ours = rest_api_event(route=route, path_parameters={}, method="POST", path="/v1/bookings",
                          query=[], headers=[("Content-Type", "application/json"),
                                             ("Idempotency-Key", "k1"), ("X-A", "1"),
                                             ("X-A", "2")],
                          body=b'{"a": 1}', source_ip="127.0.0.1",
                          claims={"sub": "alice", "exp": 1})
    assert set(ours) == set(real)
    assert set(ours["requestContext"]) <= set(real["requestContext"])
    assert ours["requestContext"]["path"] == "/live/v1/bookings"
    assert ours["requestContext"]["authorizer"] == {"claims": {"sub": "alice", "exp": "1"}}
    assert ours["headers"]["X-A"] == "2" and ours["multiValueHeaders"]["X-A"] == ["1", "2"]
    assert ours["pathParameters"] is None and ours["body"] == '{"a": 1}'
