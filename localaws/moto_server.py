"""moto's server as the local stack runs it: kept connections, a pool of threads, one more view.

`python -m moto.server` serves moto with werkzeug's development server, which closes the
connection after every response (werkzeug sends `Connection: close` always) and starts a
thread per connection: every AWS call of every service paid a TCP handshake and a thread on
both sides. Here the same moto application runs under waitress, in one process (moto keeps
its state in memory), with HTTP/1.1 keep-alive and a fixed pool of threads. Three lookups
moto repeats on every request are remembered, because what they read never changes while the
server runs: the list of moto's service packages (read from the disk), the backend for a
host name, and the action methods of a response class. And SQS's receive reads a queue's
retention period directly: moto computed every attribute of the queue, counting all its
messages, for each message it handed out, so a backlog made each receive slower. Measured in
docs/performance.md.

One more read-only view: CloudWatch publishes AWS/SQS ApproximateAgeOfOldestMessage; moto
has no such figure, and finding it through the SQS API means receiving messages, which bumps
their receive counts and so the dead-letter logic. `GET /moto-api/itinera/sqs-oldest`
answers `{account: {region: {queue name: age}}}` (the age in seconds, null for an empty
queue), counting every message not yet deleted and no longer delayed (in flight included),
as SQS does.

One more operation moto lacks: CloudWatch's DescribeAlarmHistory, answered from the states
moto keeps per alarm (the local alarm evaluator sets them), so tools read alarm transitions
from CloudWatch locally as on AWS. And one delivery: EventBridge rules whose target is an SNS
topic publish the event to it (moto's rules deliver to queues and log groups only).

And one switch: a service moto only pretends to run (FIS stores experiments and flips their
states; ECS records tasks it never starts) can be answered by a local stand-in that does the
work, at the same endpoint, so tools call one `AWS_ENDPOINT_URL` for every service as they
call AWS. `POST /moto-api/itinera/routes` with `{"service": "fis", "url": "http://..."}`
sends every request signed for that service (the SigV4 credential scope names it) to the
stand-in, as it came; `{"service": "fis", "url": null}` gives it back to moto, and
`GET /moto-api/itinera/routes` lists the routes. For a JSON-protocol service a route may name
its operations (`{"service": "ecs", "operations": ["RunTask", ...], "url": ...}`, matched
against the `X-Amz-Target` header): the ECS stand-in runs tasks on demand while moto keeps
the clusters and task definitions it stores well.

Run it as `python -m localaws.moto_server -H HOST -p PORT`.
"""

from __future__ import annotations

import argparse
import copy
import functools
import http.client
import itertools
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

OLDEST_PATH = "/moto-api/itinera/sqs-oldest"
ROUTES_PATH = "/moto-api/itinera/routes"
# The service a request is signed for: `Credential=AKID/20261207/eu-west-1/fis/aws4_request`.
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
# Hop-by-hop headers (RFC 9110 7.6.1): a proxy never forwards them.
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                  "transfer-encoding", "upgrade"})
# A stand-in answers in well under this; an experiment runs in the background.
FORWARD_TIMEOUT_S = 30.0
# Long polls (SQS ReceiveMessage with a wait) hold a thread each for up to 20 s: the Lambda
# host's pollers, the notifier tasks' and the tests' together stay well below this.
THREADS = 64
# Every AWS client keeps a pool of connections; waitress's default limit (100) would stall.
CONNECTION_LIMIT = 2000

Ages = dict[str, dict[str, dict[str, float | None]]]


def oldest_ages(backends: Any, now_ms: float) -> Ages:
    """Return each queue's oldest message age in seconds (None when it holds none)."""
    out: Ages = {}
    for account_id, regions in list(backends.items()):
        for region, backend in list(regions.items()):
            for queue in list(backend.queues.values()):
                # A copy: the server's other threads send and delete meanwhile.
                sent = [m.sent_timestamp for m in list(queue._messages)
                        if m.sent_timestamp is not None and not m.delayed]
                out.setdefault(account_id, {}).setdefault(region, {})[queue.name] = (
                    (now_ms - min(sent)) / 1000 if sent else None)
    return out


def _view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    from moto.sqs.models import sqs_backends

    ages = oldest_ages(sqs_backends, time.time() * 1000)
    return 200, {"Content-Type": "application/json"}, json.dumps(ages)


class ServiceRouter:
    """WSGI middleware: requests signed for a routed service go to its stand-in, the rest to
    moto; `ROUTES_PATH` reads and changes the routes."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.routes: dict[str, str] = {}
        # service -> operation -> url, for routes that take some operations only
        self.operations: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == ROUTES_PATH:
            return self._routes(environ, start_response)
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        target = self._target(match.group(1), environ) if match else None
        if target is None:
            return self.app(environ, start_response)
        return self._forward(target, environ, start_response)

    def _target(self, service: str, environ: dict[str, Any]) -> str | None:
        by_operation = self.operations.get(service)
        if by_operation:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
            if operation in by_operation:
                return by_operation[operation]
        return self.routes.get(service)

    def _routes(self, environ: dict[str, Any], start_response: Callable[..., Any]
                ) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            try:
                doc = json.loads(_body(environ) or b"{}")
                service, url = str(doc["service"]), doc.get("url")
                if url is not None and urlsplit(str(url)).scheme not in ("http", "https"):
                    raise ValueError(f"not an http URL: {url!r}")
                operations = [str(o) for o in doc.get("operations") or []]
            except (ValueError, KeyError, TypeError) as exc:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps({"error": str(exc)}).encode()]
            with self._lock:
                if operations:
                    routed = dict(self.operations.get(service, {}))
                    for operation in operations:
                        if url is None:
                            routed.pop(operation, None)
                        else:
                            routed[operation] = str(url).rstrip("/")
                    self.operations[service] = routed
                elif url is None:
                    self.routes.pop(service, None)
                else:
                    self.routes[service] = str(url).rstrip("/")
        start_response("200 OK", [("Content-Type", "application/json")])
        listed: dict[str, Any] = dict(self.routes)
        listed.update({service: ops for service, ops in self.operations.items() if ops})
        return [json.dumps(listed).encode()]

    def _forward(self, target: str, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        url = urlsplit(target)
        path = environ.get("PATH_INFO", "/") or "/"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80,
                                                timeout=FORWARD_TIMEOUT_S)
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=_body(environ),
                               headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP
                    and k.lower() != "content-length"]
            status = f"{answer.status} {answer.reason}"
        except OSError as exc:
            # The stand-in is down: an AWS-shaped 503 the SDK retries, naming the cause.
            body = json.dumps({"message": f"local stand-in at {target} unreachable: {exc}"
                               }).encode()
            kept, status = [("Content-Type", "application/json")], "503 Service Unavailable"
        finally:
            connection.close()
        start_response(status, [*kept, ("Content-Length", str(len(body)))])
        return [body]


async def set_route(endpoint: str, service: str, url: str | None,
                    operations: tuple[str, ...] = ()) -> None:
    """Tell the server at *endpoint* where *service*'s requests (or just its *operations*)
    go; None gives them back to moto. For the stand-ins, which call it as they start and
    stop."""
    import aiohttp

    body: dict[str, Any] = {"service": service, "url": url}
    if operations:
        body["operations"] = list(operations)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, \
            http.post(f"{endpoint}{ROUTES_PATH}", json=body) as answer:
        answer.raise_for_status()


def _body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def _remember_static_lookups() -> None:
    """Compute once what moto otherwise recomputes per request from unchanging inputs."""
    from moto import backends
    from moto.core import responses
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    modules = tuple(backends.list_of_moto_modules())  # a directory listing of moto itself
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    # inspect.getmembers over the response class, for every call
    responses.method_names_from_class = functools.cache(  # type: ignore[assignment]
        responses.method_names_from_class)

    def retained(backend: SQSBackend, queue_name: str, message: Any) -> bool:
        queue: Any = backend.get_queue(queue_name)  # moto sets the attribute from its name
        period = float(queue.message_retention_period)
        return bool(period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign,assignment]


def alarm_history(alarms: Iterable[Any], *, name: str | None, kind: str | None,
                  start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """Return CloudWatch's DescribeAlarmHistory items (state updates, newest first) from the
    states moto keeps per alarm: each earlier state, then the current one."""
    if kind not in (None, "StateUpdate"):
        return []  # moto keeps no configuration updates or actions
    items = []
    for alarm in alarms:
        if name is not None and alarm.name != name:
            continue
        states = [(h[3], h[1], h[4]) for h in alarm.history] + [
            (alarm.state_value, alarm.state_reason, alarm.state_updated_timestamp)]
        for (old, old_reason, _), (new, reason, at) in itertools.pairwise(states):
            if old_reason.startswith("Unchecked: Initial alarm creation"):
                old = "INSUFFICIENT_DATA"  # moto creates alarms OK; CloudWatch, this
            if old == new:
                continue  # a state set again is no update
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
            if (start is not None and at < start) or (end is not None and at > end):
                continue
            items.append({
                "AlarmName": alarm.name,
                "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
                "Timestamp": at, "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old} to {new}",
                "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": old},
                                           "newState": {"stateValue": new,
                                                        "stateReason": reason}})})
    return sorted(items, key=lambda i: i["Timestamp"], reverse=True)


def _add_alarm_history() -> None:
    """Answer CloudWatch DescribeAlarmHistory, which moto lacks, from the states it keeps."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def when(value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        found = value if isinstance(value, datetime) else datetime.fromisoformat(
            str(value).replace("Z", "+00:00"))
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found

    def describe_alarm_history(self: Any) -> Any:
        items = alarm_history(
            self.cloudwatch_backend.alarms.values(), name=self._get_param("AlarmName"),
            kind=self._get_param("HistoryItemType"), start=when(self._get_param("StartDate")),
            end=when(self._get_param("EndDate")))
        if self._get_param("ScanBy") == "TimestampAscending":
            items.reverse()
        first = int(self._get_param("NextToken") or 0)
        size = int(self._get_param("MaxRecords") or 100)
        result: dict[str, Any] = {"AlarmHistoryItems": items[first:first + size]}
        if first + size < len(items):
            result["NextToken"] = str(first + size)
        return ActionResult(result)

    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]


def flatten_event(node: Any, prefix: str = "", result: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """Return an event's fields by dotted path, as EventBridge matches them: the fields of
    an array of objects are the lists of their values (`detail.containers.exitCode` of a
    task with two containers is both exit codes), which moto's own flattening leaves out."""
    out: dict[str, Any] = {} if result is None else result
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and value:
                flatten_event(value, path, out)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for item in value:
                    for field, found in flatten_event(item, path).items():
                        out.setdefault(field, []).extend(
                            found if isinstance(found, list) else [found])
            else:
                out[path] = value
    return out


def _deliver_events_to_topics() -> None:
    """Deliver EventBridge events to SNS topic targets, which moto's rules skip (they send
    to queues, log groups and buses only): the event as JSON, as EventBridge publishes it;
    and match patterns inside arrays of objects, as EventBridge does."""
    from moto.events.models import EventPattern, Rule
    from moto.sns.models import sns_backends

    EventPattern._flatten_dict = staticmethod(flatten_event)  # type: ignore[method-assign,assignment]

    moto_send = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        topics = [t for t in self.targets if str(t["Arn"]).startswith("arn:aws:sns:")]
        if len(topics) < len(self.targets):
            # moto refuses the whole rule for a target it does not know: it gets the others.
            others = copy.copy(self)
            others.targets = [t for t in self.targets if t not in topics]
            moto_send(others, original_event, transform_input)
        if not topics or not self.event_pattern.matches_event(original_event):
            return
        for target in topics:
            _, _, _, region, account, _ = str(target["Arn"]).split(":", 5)
            sns_backends[account][region].publish(
                message=json.dumps(original_event, default=str), arn=target["Arn"])

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def application() -> ServiceRouter:
    """Return moto's WSGI application with the view registered and the lookups remembered,
    behind the service router."""
    from moto.moto_api._internal import urls
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class Dispatcher(DomainDispatcherApplication):
        """moto's dispatcher; a host name's backend is matched against its patterns once."""

        @functools.cache  # noqa: B019 - one dispatcher per process, kept for its lifetime
        def get_backend_for_host(self, host: str | None) -> Any:
            return super().get_backend_for_host(host)

    _remember_static_lookups()
    _add_alarm_history()
    _deliver_events_to_topics()
    urls.url_paths["{0}" + OLDEST_PATH + "$"] = _view
    app = Dispatcher(create_backend_app)
    app.debug = True  # type: ignore[attr-defined] # as moto's own server sets it
    return ServiceRouter(app)


def main(argv: list[str] | None = None) -> None:
    """Serve moto on HOST:PORT until SIGTERM or SIGINT."""
    import waitress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    waitress.serve(application(), host=args.host, port=args.port, threads=args.threads,
                   connection_limit=CONNECTION_LIMIT, ident="moto", _quiet=True)


if __name__ == "__main__":
    main()
