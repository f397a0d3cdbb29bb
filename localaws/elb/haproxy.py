"""Render one HAProxy configuration: a frontend standing in for an ALB listener, a target group."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from localaws.config import local_seconds
from localaws.elb.model import TargetGroup
from localaws.elb.problems import (
    PROBLEM_JSON,
    REQUEST_ID,
    Problem,
    body_format,
    error_file,
    parser_problems,
    problems,
)

# A fail-open twin of each target: a backup server without checks, used (all of them, with
# `option allbackups`) only when every checked server is down, as an ALB routes to all
# targets when none is healthy.
FAIL_OPEN_SUFFIX = ".fail-open"
# aiohttp answers a request line or header line over 8190 bytes with a plain-text 400; these
# stay below it so HAProxy refuses such requests first, with a problem document.
MAX_URL_BYTES = 8000
MAX_HEADER_LINE_BYTES = 8000
# aiohttp takes at most 128 header lines; HAProxy adds four (X-Request-Id, X-Forwarded-*).
MAX_HEADER_LINES = 100
# The body limit; the services' own limit (64 KiB) is lower and answers in problem+json too.
MAX_BODY_BYTES = 1024 * 1024
# Headers up to this size are parsed and meet our own 414/431 problems (100 KB of query or
# header included); only larger ones stop in the parser, which answers from its error files.
BUFFER_BYTES = 128 * 1024
PARSER_MAX_HEADER_LINES = 120
# Statuses HAProxy has no error slot for; only our deny rules answer them.
DENY_ONLY_STATUSES = (414, 431)
# Keep idle connections to each target for reuse, as an ALB does. A server made at run time
# by `add server` (HAProxy 2.6) keeps none unless told: without these every request opened a
# new connection to its target, which cost the gateway about half its CPU per request.
KEEP_IDLE = "pool-max-conn -1 pool-purge-delay 5s"
# The client's X-Request-Id is kept when it is 1 to 128 visible ASCII characters.
CLIENT_REQUEST_ID = (r"req.fhdr(x-request-id),regsub('^.*[^!-~].*$',''),"
                     r"regsub('^.{129,}$','')")


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """HAProxy's timeouts in seconds; they bound real work, so they are not time-scaled."""

    # Headers and (with option http-buffer-request) the body must arrive within this: a
    # slow client gets a 408 instead of holding a connection and a buffer.
    http_request: float = 10.0
    # Loopback connects succeed or fail at once; a stopped task still accepts into its backlog.
    connect: float = 2.0
    # ALB's default idle timeout, on both sides: a target silent this long gets a 504.
    client: float = 60.0
    server: float = 60.0
    keep_alive: float = 60.0


@dataclass(frozen=True, kw_only=True)
class Target:
    """One task registered in the target group."""

    az: str
    port: int
    host: str = "127.0.0.1"
    # The task's own name (`gateway-az-a-3`); without one the server is named after its AZ.
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class Balancer:
    """One local load balancer: a port, a target group and its tasks, and HAProxy's settings."""

    name: str
    port: int
    group: TargetGroup
    targets: tuple[Target, ...]
    socket: Path
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body: int = MAX_BODY_BYTES
    retries: int = 2

    def server_name(self, target: Target) -> str:
        """Return the server's name: its task's name, or its service and AZ (`gateway-az-a`)."""
        return target.name or f"{self.group.service}-{target.az}"

    @property
    def retry_after(self) -> int:
        """Return the seconds after which a recovered target passes its healthy threshold."""
        health = self.group.health
        return max(1, math.ceil(local_seconds(health.interval) * health.healthy_threshold))

    def parser_problems(self) -> dict[int, Problem]:
        """Return the problems of the parser's statuses, by status."""
        return parser_problems(request_timeout=self.timeouts.http_request)

    def problems(self) -> tuple[Problem, ...]:
        """Return the problems this balancer answers with."""
        return problems(max_body=self.max_body, max_url=MAX_URL_BYTES,
                        max_header_line=MAX_HEADER_LINE_BYTES, max_header_lines=MAX_HEADER_LINES,
                        request_timeout=self.timeouts.http_request,
                        server_timeout=self.timeouts.server)


def quote(text: str) -> str:
    """Return *text* as one double-quoted HAProxy configuration word."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def render(balancer: Balancer, *, error_dir: Path) -> str:
    """Return the whole configuration file for *balancer*, its error files in *error_dir*."""
    return "\n".join([*_global(balancer), "", *_defaults(balancer), "",
                      *_frontend(balancer, error_dir), "", *_backend(balancer), ""])


def error_files(balancer: Balancer) -> dict[str, bytes]:
    """Return the parser's error files by name: one problem+json response per status."""
    return {f"{status}.http": error_file(problem)
            for status, problem in balancer.parser_problems().items()}


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _global(b: Balancer) -> list[str]:
    return [
        "global",
        "    log stdout format raw local0 info",
        f"    stats socket {b.socket} mode 600 level admin",
        "    stats timeout 30s",
        # One thread: the stack runs two balancers and a dozen services on a laptop.
        "    nbthread 1",
        "    maxconn 2048",
        f"    tune.bufsize {BUFFER_BYTES}",
        f"    tune.http.maxhdr {PARSER_MAX_HEADER_LINES}",
    ]


def _defaults(b: Balancer) -> list[str]:
    t = b.timeouts
    return [
        "defaults",
        "    mode http",
        "    log global",
        "    option dontlognull",
        f"    log-format {quote(_log_format(b))}",
        f"    timeout http-request {_ms(t.http_request)}",
        f"    timeout connect {_ms(t.connect)}",
        f"    timeout client {_ms(t.client)}",
        f"    timeout server {_ms(t.server)}",
        f"    timeout http-keep-alive {_ms(t.keep_alive)}",
        f"    timeout queue {_ms(t.connect)}",
    ]


def _problem_response(b: Balancer, problem: Problem) -> str:
    headers = f"hdr X-Request-Id {quote(REQUEST_ID)} hdr Cache-Control no-store"
    if problem.retry_after:
        headers += f" hdr Retry-After {b.retry_after}"
    return (f"status {problem.status} content-type {PROBLEM_JSON} "
            f"lf-string {quote(body_format(problem))} {headers}")


def _frontend(b: Balancer, error_dir: Path) -> list[str]:
    lines = [
        f"frontend {b.name}",
        f"    bind 127.0.0.1:{b.port}",
        # Evaluated when first used, after the headers are parsed: "<uuid> <client id or nothing>".
        f"    unique-id-format {quote('%[uuid()] %[' + CLIENT_REQUEST_ID + ']')}",
        # A connection that sent nothing is closed without a 408 (browsers pre-connect).
        "    option http-ignore-probes",
        # ALB speaks HTTP/2 over TLS listeners only: a cleartext HTTP/2 preface is a bad
        # HTTP/1 request here too.
        "    option disable-h2-upgrade",
    ]
    # HAProxy's HTTP/1 parser answers these itself, before a request exists, from the
    # frontend's error files (static: no request id yet). HAProxy before 3.3 sends its
    # built-in HTML page instead whatever the file holds, unless the file is empty.
    lines += [f"    errorfile {status} {error_dir / f'{status}.http'}"
              for status in b.parser_problems()]
    return [*lines, f"    default_backend {b.name}"]


def _backend(b: Balancer) -> list[str]:
    health = b.group.health
    by_status = {p.status: p for p in b.problems()}
    long_line = quote("[^\\r\\n]{" + str(MAX_HEADER_LINE_BYTES + 1) + "}")
    lines = [
        f"backend {b.name}",
        # Rules and errors live here, not in the frontend: once a request reaches the backend
        # every error HAProxy answers with comes from these, with the request id.
        *[f"    http-error {_problem_response(b, p)}" for p in b.problems()
          if p.status not in DENY_ONLY_STATUSES],
        # Wait for the body too, so `timeout http-request` covers slow bodies (a 408).
        "    option http-buffer-request",
        f"    http-request deny {_problem_response(b, by_status[414])} "
        f"if {{ url,length gt {MAX_URL_BYTES} }}",
        f"    http-request deny {_problem_response(b, by_status[431])} "
        f"if {{ req.fhdr_cnt gt {MAX_HEADER_LINES} }} || "
        f"{{ req.hdrs,length gt {MAX_HEADER_LINE_BYTES} }} {{ req.hdrs -m reg {long_line} }}",
        f"    http-request deny {_problem_response(b, by_status[413])} "
        f"if {{ req.body_size gt {b.max_body} }}",
        f"    http-request set-header X-Request-Id {quote(REQUEST_ID)}",
        # One X-Forwarded-For line with the client appended, as an ALB does: the gateway reads
        # the first line only and counts trusted hops from its right end.
        "    http-request set-header X-Forwarded-For \"%[req.fhdr(x-forwarded-for)], %[src]\" "
        "if { req.fhdr(x-forwarded-for) -m found }",
        "    http-request set-header X-Forwarded-For %[src] "
        "unless { req.fhdr(x-forwarded-for) -m found }",
        "    http-request set-header X-Forwarded-Proto http",
        "    http-request set-header X-Forwarded-Port %[dst_port]",
        f"    http-response set-header X-Request-Id {quote(REQUEST_ID)}",
        "    balance roundrobin",
        "    option httpchk",
        f"    http-check send meth GET uri {health.path} ver HTTP/1.1 hdr Host {b.name}",
        f"    http-check expect {_matcher(health.matcher)}",
        f"    timeout check {_ms(local_seconds(health.timeout))}",
        f"    retries {b.retries}",
        # Every retry goes to another server than the one that just failed.
        "    option redispatch 1",
        # A task that died mid-request (no answer, or half of one); never a live task's own
        # answer: a 503 means "retry later", and replaying it at once doubles the wait.
        "    retry-on conn-failure empty-response junk-response",
        # Past a connection failure (nothing sent), only replay what is safe to replay.
        "    http-request disable-l7-retry "
        "unless { method GET HEAD } || { req.fhdr_cnt(idempotency-key) gt 0 }",
        "    option allbackups",
    ]
    lines += [f"    server {b.server_name(t)} {server_args(b, t)}" for t in b.targets]
    lines += [f"    server {b.server_name(t)}{FAIL_OPEN_SUFFIX} {fail_open_args(t)}"
              for t in b.targets]
    return lines


def server_args(b: Balancer, target: Target) -> str:
    """Return a checked server's address and options (also what `add server` needs)."""
    health = b.group.health
    return (f"{target.host}:{target.port} check inter {_ms(local_seconds(health.interval))} "
            f"rise {health.healthy_threshold} fall {health.unhealthy_threshold} {KEEP_IDLE}")


def fail_open_args(target: Target) -> str:
    """Return the address and options of a target's fail-open twin: a backup, not checked."""
    return f"{target.host}:{target.port} backup {KEEP_IDLE}"


def _matcher(matcher: str) -> str:
    """Return the `http-check expect` argument for an ALB matcher (200, 200,204, 200-299)."""
    codes: list[str] = []
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        codes += [str(c) for c in range(int(low), int(high or low) + 1)]
    if len(codes) == 1:
        return f"status {codes[0]}"
    return f"rstatus ^({'|'.join(codes)})$"


def _log_format(b: Balancer) -> str:
    # One JSON line per request; client-controlled values go through the json converter.
    fields = {
        "balancer": f'"{b.name}"', "request_id": '"' + REQUEST_ID[:-1] + ',json(ascii)]"',
        "method": '"%[capture.req.method,json(ascii)]"',
        "uri": '"%[capture.req.uri,json(ascii)]"', "status": "%ST", "server": '"%s"',
        "retries": '"%rc"', "termination": '"%ts"', "bytes": "%B", "client": '"%ci"',
        "t_request_ms": "%TR", "t_connect_ms": "%Tc", "t_response_ms": "%Tr",
        "t_total_ms": "%Ta",
    }
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"
