"""Request ids and X-Ray trace headers carried across HTTP, SQS and SNS; `itinera trace`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from itinera import tracing
from itinera.logs import JsonFormatter, request_id_var, trace_header_var
from operations.trace import LogLine, booking_trace, read_lines

HEADER = "Root=1-5f84c7a5-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
BOOKING = "b" * 32


def test_a_well_formed_trace_header_is_kept_and_a_bad_one_replaced() -> None:
    """An incoming X-Ray header is passed on as is; a missing or junk one gets a new root."""
    assert tracing.accepted_trace_header(HEADER) == HEADER
    fresh = tracing.accepted_trace_header("Root=not-a-trace")
    assert tracing.root_of(fresh) is not None and fresh != "Root=not-a-trace"
    assert tracing.root_of(tracing.accepted_trace_header(None)) is not None
    assert tracing.new_trace_header() != tracing.new_trace_header()


def test_traced_sets_both_ids_for_log_lines_and_restores_them() -> None:
    """Inside `traced`, log lines and outgoing calls carry the ids; outside, nothing leaks."""
    formatter = JsonFormatter("test")
    record = logging.LogRecord("t", logging.INFO, "", 0, "hello", (), None)
    with tracing.traced("req-1", HEADER):
        entry = json.loads(formatter.format(record))
        assert entry["request_id"] == "req-1"
        assert entry["trace_id"] == "1-5f84c7a5-0123456789abcdef01234567"
        assert tracing.outgoing_headers() == {"X-Request-Id": "req-1",
                                              "X-Amzn-Trace-Id": HEADER}
        assert tracing.system_attributes()["AWSTraceHeader"]["StringValue"] == HEADER
    assert request_id_var.get() is None and trace_header_var.get() is None
    assert "trace_id" not in json.loads(formatter.format(record))


def test_traced_ignores_malformed_ids() -> None:
    """A request id with spaces or a header without a root is not written into logs."""
    with tracing.traced("has spaces", "Sampled=1"):
        assert tracing.outgoing_headers() == {}
        assert tracing.message_attributes() == {}


def test_ids_survive_the_queue_and_the_topic() -> None:
    """What the API puts on SQS, and the worker on SNS, is read back on the other side."""
    with tracing.traced("req-2", HEADER):
        attributes = tracing.message_attributes()
        system = tracing.system_attributes()
    # An SQS record as a Lambda event source mapping delivers it.
    record = {"attributes": {"AWSTraceHeader": system["AWSTraceHeader"]["StringValue"]},
              "messageAttributes": {name: {"stringValue": a["StringValue"], "dataType": "String"}
                                    for name, a in attributes.items()}}
    assert tracing.from_lambda_record(record) == ("req-2", HEADER)
    # (The SNS side, a notification in the notifier's queue: tests/unit/test_notifier_messages.py.)
    assert tracing.from_lambda_record({}) == (None, None)


def _line(source: str, ts: str, **fields: object) -> LogLine:
    return LogLine(source=source, entry={"ts": ts, "message": "m", **fields})


def test_a_bookings_trace_follows_its_request_and_trace_ids_in_time_order() -> None:
    """Lines naming the booking bring in every line of their requests; others stay out."""
    lines = [
        _line("notifier-az-b", "2026-11-27T10:00:03.000Z", booking_id=BOOKING, request_id="r1"),
        _line("gateway-az-a", "2026-11-27T10:00:00.000Z", request_id="r1", path="/v1/bookings"),
        _line("lambda-api", "2026-11-27T10:00:01.000Z", request_id="r1", booking_id=BOOKING),
        _line("gateway-az-b", "2026-11-27T10:00:02.000Z", request_id="r9",
              path=f"/v1/bookings/{BOOKING}"),
        _line("gateway-az-a", "2026-11-27T10:00:02.500Z", request_id="other"),
        _line("lambda-worker", "2026-11-27T10:00:02.700Z", trace_id="1-x",
              booking_id="c" * 32),
    ]
    traced = booking_trace(lines, BOOKING)
    assert [(line.source, line.entry["request_id"]) for line in traced] == [
        ("gateway-az-a", "r1"), ("lambda-api", "r1"), ("gateway-az-b", "r9"),
        ("notifier-az-b", "r1")]


def test_read_lines_skips_plain_and_broken_lines(tmp_path: Path) -> None:
    """HAProxy's text lines and a line cut short by a kill are not JSON log lines."""
    (tmp_path / "gateway-az-a.log").write_text(
        '{"ts": "2026-11-27T10:00:00.000Z", "message": "request"}\n'
        "127.0.0.1:1234 [27/Nov/2026] plain text\n"
        '{"ts": "2026-11-27T10:00:0\n')
    lines = list(read_lines(tmp_path))
    assert [(line.source, line.entry["message"]) for line in lines] == [
        ("gateway-az-a", "request")]
