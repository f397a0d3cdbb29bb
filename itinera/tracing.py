"""One booking followed end to end: the request id and the X-Ray trace header, carried along.

The gateway gives each request an id (X-Request-Id) and an X-Ray trace header
(X-Amzn-Trace-Id, from the ALB on AWS or made here); HTTP calls pass both on as headers,
the checkout queue carries them as a message attribute and the `AWSTraceHeader` system
attribute (which X-Ray reads on AWS), and booking events carry them as SNS message attributes
into the notifier's queue. Every JSON log line names both, so `itinera trace` can put one
booking's lines from every service in order.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from itinera.logs import request_id_var, trace_header_var

TRACE_HEADER = "X-Amzn-Trace-Id"
REQUEST_ID_ATTRIBUTE = "request_id"
TRACE_ATTRIBUTE = "trace_header"
# `Root=1-<8 hex epoch seconds>-<24 hex>`, then optional `;Parent=...;Sampled=...` fields.
_ROOT = re.compile(r"Root=(1-[0-9a-f]{8}-[0-9a-f]{24})")
_HEADER = re.compile(r"[\x20-\x7e]{1,256}")
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


def new_trace_header() -> str:
    """Return a fresh X-Ray trace header, as an ALB makes for a request without one."""
    # A trace id needs to be unique, not secret: the plain generator is several times cheaper
    # than the system's, and this runs on every request.
    return f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x};Sampled=0"


def root_of(header: str | None) -> str | None:
    """Return the trace id (`1-...-...`) inside an X-Ray trace header, or None."""
    match = _ROOT.search(header or "")
    return match.group(1) if match else None


def accepted_trace_header(incoming: str | None) -> str:
    """Return *incoming* when it is a well-formed trace header, else a new one."""
    if incoming and _HEADER.fullmatch(incoming) and root_of(incoming):
        return incoming
    return new_trace_header()


@contextlib.contextmanager
def traced(request_id: str | None, trace_header: str | None) -> Iterator[None]:
    """Make the log lines written inside name *request_id* and *trace_header*."""
    rid = request_id if request_id and _REQUEST_ID.fullmatch(request_id) else None
    header = trace_header if trace_header and root_of(trace_header) else None
    rid_token = request_id_var.set(rid)
    header_token = trace_header_var.set(header)
    try:
        yield
    finally:
        trace_header_var.reset(header_token)
        request_id_var.reset(rid_token)


def outgoing_headers() -> dict[str, str]:
    """Return the headers that carry the current request id and trace to another service."""
    headers = {}
    if request_id := request_id_var.get():
        headers["X-Request-Id"] = request_id
    if trace_header := trace_header_var.get():
        headers[TRACE_HEADER] = trace_header
    return headers


def message_attributes() -> dict[str, dict[str, str]]:
    """Return SQS/SNS message attributes carrying the current request id and trace."""
    attributes = {}
    if request_id := request_id_var.get():
        attributes[REQUEST_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": request_id}
    if trace_header := trace_header_var.get():
        attributes[TRACE_ATTRIBUTE] = {"DataType": "String", "StringValue": trace_header}
    return attributes


def system_attributes() -> dict[str, dict[str, str]]:
    """Return the SQS system attribute X-Ray follows across a queue (`AWSTraceHeader`)."""
    trace_header = trace_header_var.get()
    if not trace_header:
        return {}
    return {"AWSTraceHeader": {"DataType": "String", "StringValue": trace_header}}


def from_lambda_record(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return the request id and trace header an SQS record of a Lambda event carries."""
    attributes = record.get("messageAttributes") or {}
    request_id = (attributes.get(REQUEST_ID_ATTRIBUTE) or {}).get("stringValue")
    trace_header = (record.get("attributes") or {}).get("AWSTraceHeader") or \
        (attributes.get(TRACE_ATTRIBUTE) or {}).get("stringValue")
    return request_id, trace_header
