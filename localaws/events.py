"""The events AWS hands Lambda functions, built as API Gateway and SQS build them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from multidict import CIMultiDict

from localaws.functions import Route

TEXT_TYPES = ("application/json", "application/problem+json", "text/", "application/xml")


def http_api_event(*, route: Route, path_parameters: dict[str, str], method: str, path: str,
                   query: Iterable[tuple[str, str]], raw_query: str,
                   headers: Iterable[tuple[str, str]], body: bytes, source_ip: str,
                   claims: dict[str, Any] | None, api_id: str = "local",
                   stage: str = "$default") -> dict[str, Any]:
    """Build an HTTP API payload 2.0 event (headers lower-cased, repeats joined by commas)."""
    joined_headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined_headers[lname] = f"{joined_headers[lname]},{value}" if lname in joined_headers \
            else value
    params: dict[str, str] = {}
    for name, value in query:
        params[name] = f"{params[name]},{value}" if name in params else value
    content_type = joined_headers.get("content-type", "")
    is_text = not body or (content_type.startswith(TEXT_TYPES) and _is_utf8(body))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined_headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": api_id,
            "domainName": joined_headers.get("host", "localhost"),
            "domainPrefix": joined_headers.get("host", "localhost").split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": joined_headers.get("user-agent", "")},
            "requestId": uuid.uuid4().hex, "routeKey": route.route_key, "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    if claims is not None:
        # API Gateway hands JWT claims to the function as strings.
        event["requestContext"]["authorizer"] = {"jwt": {
            "claims": {k: v if isinstance(v, str) else orjson.dumps(v).decode()
                       for k, v in claims.items()},
            "scopes": None}}
    return event


def rest_api_event(*, route: Route, path_parameters: dict[str, str], method: str, path: str,
                   query: Iterable[tuple[str, str]], headers: Iterable[tuple[str, str]],
                   body: bytes, source_ip: str, claims: dict[str, Any] | None,
                   api_id: str = "local") -> dict[str, Any]:
    """Build a REST API proxy event (payload 1.0): last header value wins, repeats listed."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in query:
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    lowered = {k.lower(): v for k, v in single.items()}
    content_type = lowered.get("content-type", "")
    is_text = not body or (content_type.startswith(TEXT_TYPES) and _is_utf8(body))
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": api_id, "resourceId": "local",
        "resourcePath": route.path, "httpMethod": method, "path": f"/{route.stage}{path}",
        "stage": route.stage, "protocol": "HTTP/1.1", "requestId": uuid.uuid4().hex,
        "domainName": lowered.get("host", "localhost"),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": lowered.get("user-agent", ""),
                     "vpceId": "vpce-local"},
    }
    if claims is not None:
        # A Cognito user pool authorizer hands the token's claims over as strings.
        context["authorizer"] = {"claims": {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in claims.items()}}
    return {
        "resource": route.path, "path": path, "httpMethod": method,
        "headers": single or None, "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None, "stageVariables": None,
        "requestContext": context,
        "body": (body.decode() if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": not is_text,
    }


def _is_utf8(body: bytes) -> bool:
    # A body that is not UTF-8 cannot travel as a JSON string: API Gateway base64-encodes it.
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def http_api_response(result: Any) -> tuple[int, CIMultiDict[str], bytes]:
    """Turn a handler's result into an HTTP response the way API Gateway does.

    A REST API also reads `multiValueHeaders`; a name in both keeps its multiple values only.
    """
    if isinstance(result, dict) and "statusCode" in result:
        multi = {str(k): v for k, v in (result.get("multiValueHeaders") or {}).items()}
        headers = CIMultiDict((str(k), str(v)) for k, v in (result.get("headers") or {}).items()
                              if str(k) not in multi)
        for name, values in multi.items():
            headers.extend((name, str(v)) for v in values)
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return int(result["statusCode"]), headers, raw
    # Without a statusCode, API Gateway assumes 200 and a JSON body.
    return 200, CIMultiDict({"content-type": "application/json"}), orjson.dumps(result)


def sqs_event(messages: Iterable[Mapping[str, Any]], *, queue_arn: str,
              region: str) -> dict[str, Any]:
    """Build the SQS batch event an event source mapping delivers."""
    records = []
    for m in messages:
        attributes = dict(m.get("Attributes", {}))
        records.append({
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                "SenderId": attributes.get("SenderId", "AIDAIT2UOQQY3AUEKVGXU"),
                "ApproximateFirstReceiveTimestamp":
                    attributes.get("ApproximateFirstReceiveTimestamp",
                                   str(int(time.time() * 1000))),
                # X-Ray's header across the queue, when the sender set it.
                **({"AWSTraceHeader": attributes["AWSTraceHeader"]}
                   if "AWSTraceHeader" in attributes else {}),
            },
            "messageAttributes": {
                name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [],
                       "dataType": a.get("DataType", "String")}
                for name, a in m.get("MessageAttributes", {}).items()},
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    return {"Records": records}


def failed_message_ids(result: Any, batch_ids: set[str]) -> set[str] | None:
    """Return the ids a partial batch response reports failed, or None for the whole batch.

    As AWS does, a malformed response or an unknown id fails the whole batch.
    """
    if result is None:
        return set()
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item or item not in batch_ids:
            return None
        ids.add(item)
    return ids


def scheduled_event(*, rule_arn: str, region: str) -> dict[str, Any]:
    """Build the event EventBridge sends for a scheduled rule."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": [rule_arn], "detail": {}}
