"""HAProxy's configuration follows the template's target groups, ALB's behaviour and our limits."""

from __future__ import annotations

import copy
import json
import re
from http import HTTPStatus
from pathlib import Path

import pytest

from localaws.config import LOCAL_TIME_SCALE, local_seconds
from localaws.elb import (
    Balancer,
    HealthCheck,
    Target,
    TargetGroup,
    render,
    target_groups,
)
from localaws.elb.haproxy import FAIL_OPEN_SUFFIX, MAX_HEADER_LINE_BYTES, error_files
from localaws.elb.problems import REQUEST_ID_JSON
from localaws.template import Template, TemplateError, load_sam, transform

# Every status HAProxy 2.6 can answer itself (configuration.txt, "http-error").
HAPROXY_STATUSES = {400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503,
                    504}


@pytest.fixture(scope="module")
def template() -> Template:
    """The real template, transformed as for a local run."""
    return transform(load_sam(), region="eu-west-1",
                     parameters={"InventoryUrl": "http://127.0.0.1:8081"})


@pytest.fixture(scope="module")
def gateway(template: Template) -> Balancer:
    """The gateway's balancer as the stack builds it."""
    return Balancer(name="gateway", port=8080, group=target_groups(template)["gateway"],
                    targets=(Target(az="az-a", port=8100), Target(az="az-b", port=8101)),
                    socket=Path("/run/itinera/alb-gateway.sock"))


ERRORS = Path("/state/elb/gateway-errors")


def _render(balancer: Balancer) -> str:
    return render(balancer, error_dir=ERRORS)


def _section(config: str, header: str) -> list[str]:
    block = config.split(f"\n{header}\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()]


def test_each_service_gets_the_target_group_its_ecs_service_registers_in(
        template: Template) -> None:
    """Gateway and inventory map to their groups through LoadBalancers; the notifier has none."""
    groups = target_groups(template)
    assert {s: g.logical_id for s, g in groups.items()} == {
        "gateway": "GatewayTargetGroup", "inventory": "InventoryTargetGroup"}
    health = groups["gateway"].health
    assert (health.path, health.interval, health.healthy_threshold,
            health.unhealthy_threshold) == ("/health", 10, 2, 3)
    assert health.timeout == 5  # not in the template: ALB's default
    assert groups["gateway"].deregistration_delay == 30


def test_the_mapping_follows_the_template_not_the_names(template: Template) -> None:
    """Swap the groups two services register in, and the balancers swap with them."""
    resources = copy.deepcopy(template.resources)
    gateway, inventory = resources["GatewayService"], resources["InventoryService"]
    (gateway["Properties"]["LoadBalancers"][0]["TargetGroupArn"],
     inventory["Properties"]["LoadBalancers"][0]["TargetGroupArn"]) = (
        inventory["Properties"]["LoadBalancers"][0]["TargetGroupArn"],
        gateway["Properties"]["LoadBalancers"][0]["TargetGroupArn"])
    resources["InventoryTargetGroup"]["Properties"]["HealthCheckPath"] = "/live"
    swapped = target_groups(Template(resources=resources, parameters=template.parameters))
    assert swapped["gateway"].logical_id == "InventoryTargetGroup"
    assert swapped["gateway"].health.path == "/live"


def test_a_load_balancers_entry_naming_no_target_group_is_an_error(template: Template) -> None:
    """A service registering in something that is not a target group fails loudly."""
    resources = copy.deepcopy(template.resources)
    resources["GatewayService"]["Properties"]["LoadBalancers"][0]["TargetGroupArn"] = {
        "Ref": "Cluster"}
    with pytest.raises(TemplateError, match="not a target group"):
        target_groups(Template(resources=resources, parameters=template.parameters))


def test_aws_times_run_ten_times_faster_locally() -> None:
    """One factor shortens every control-plane time: 10 s of AWS is 1 s here."""
    assert LOCAL_TIME_SCALE == 0.1
    assert local_seconds(10) == pytest.approx(1.0)


def test_one_checked_server_per_az_with_the_groups_scaled_thresholds(gateway: Balancer) -> None:
    """Servers are named after task and AZ; checks run every 1 s (10 s scaled), time out in
    0.5 s (ALB's 5 s default), and use the template's thresholds; every server, its fail-open
    twin too (below), keeps idle connections for reuse."""
    backend = _section(_render(gateway), "backend gateway")
    keep = "pool-max-conn -1 pool-purge-delay 5s"
    assert f"server gateway-az-a 127.0.0.1:8100 check inter 1000ms rise 2 fall 3 {keep}" in backend
    assert f"server gateway-az-b 127.0.0.1:8101 check inter 1000ms rise 2 fall 3 {keep}" in backend
    assert "timeout check 500ms" in backend
    assert "http-check send meth GET uri /health ver HTTP/1.1 hdr Host gateway" in backend
    assert "http-check expect status 200" in backend
    assert "balance roundrobin" in backend


def test_every_target_has_an_unchecked_backup_twin_for_fail_open(gateway: Balancer) -> None:
    """With every checked server down, all backup twins (allbackups) take the traffic."""
    backend = _section(_render(gateway), "backend gateway")
    assert "option allbackups" in backend
    for port, az in ((8100, "az-a"), (8101, "az-b")):
        assert (f"server gateway-{az}{FAIL_OPEN_SUFFIX} 127.0.0.1:{port} backup "
                "pool-max-conn -1 pool-purge-delay 5s") in backend


def test_retries_replay_only_what_is_safe(gateway: Balancer) -> None:
    """Connection failures always retry; L7 failures only for GET, HEAD or an Idempotency-Key,
    and each retry goes to another server."""
    backend = _section(_render(gateway), "backend gateway")
    assert "retry-on conn-failure empty-response junk-response" in backend
    assert ("http-request disable-l7-retry unless { method GET HEAD } || "
            "{ req.fhdr_cnt(idempotency-key) gt 0 }") in backend
    assert "option redispatch 1" in backend
    assert "retries 2" in backend


def test_timeouts_and_limits(gateway: Balancer) -> None:
    """Slow requests get 10 s, idle sides ALB's 60 s; bodies over 1 MiB and URLs or header
    lines over 8000 bytes (below aiohttp's 8190) are refused."""
    config = _render(gateway)
    defaults = _section(config, "defaults")
    for line in ("timeout http-request 10000ms", "timeout client 60000ms",
                 "timeout server 60000ms", "timeout http-keep-alive 60000ms",
                 "timeout connect 2000ms"):
        assert line in defaults
    backend = "\n".join(_section(config, "backend gateway"))
    assert "option http-buffer-request" in backend
    assert "{ req.body_size gt 1048576 }" in backend
    assert "{ url,length gt 8000 }" in backend
    assert "{ req.fhdr_cnt gt 100 }" in backend
    assert f"[^\\\\r\\\\n]{{{MAX_HEADER_LINE_BYTES + 1}}}" in backend


def test_every_error_haproxy_answers_is_a_problem_document(gateway: Balancer) -> None:
    """Each status HAProxy can generate has a problem+json body with a stable code and the
    request id; 503 and 429 say when to retry."""
    backend = _section(_render(gateway), "backend gateway")
    replies = {int(m.group(1)): line for line in backend
               if (m := re.search(r"(?:http-error|deny) status (\d+)", line))}
    assert set(replies) >= HAPROXY_STATUSES | {414, 431}
    for status, line in replies.items():
        assert "content-type application/problem+json" in line
        assert "hdr X-Request-Id" in line
        problem = json.loads(_body(line, request_id="req-1"))
        assert problem["status"] == status
        assert problem["type"] == f"https://itinera.dev/problems/{problem['code']}"
        assert re.fullmatch(r"[a-z_]+", problem["code"]) and problem["title"]
        assert problem["detail"] and problem["request_id"] == "req-1"
        assert ("hdr Retry-After 2" in line) == (status in (429, 503))
    assert json.loads(_body(replies[503]))["code"] == "no_healthy_target"


def _body(line: str, *, request_id: str = "x") -> str:
    body = line.split('lf-string "', 1)[1].split('" hdr', 1)[0].replace('\\"', '"')
    return body.replace(REQUEST_ID_JSON, request_id)


def test_the_parsers_answers_come_from_problem_error_files(gateway: Balancer) -> None:
    """Every status HAProxy's parser picks before a request exists has an error file: a whole
    problem+json response (no request id, which does not exist yet), a 4xx for whatever the
    client sent, and a connection that sent nothing is closed without one."""
    frontend = _section(_render(gateway), "frontend gateway")
    assert "option http-ignore-probes" in frontend
    assert "option disable-h2-upgrade" in frontend
    files = error_files(gateway)
    for status in (400, 408, 413, 422, 500, 501):
        assert f"errorfile {status} {ERRORS / f'{status}.http'}" in frontend
        head, _, body = files[f"{status}.http"].partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        problem = json.loads(body)
        assert lines[0] == f"HTTP/1.1 {problem['status']} {HTTPStatus(problem['status']).phrase}"
        assert "Content-Type: application/problem+json" in lines
        assert f"Content-Length: {len(body)}" in lines and "Connection: close" in lines
        assert problem["type"] == f"https://itinera.dev/problems/{problem['code']}"
        assert problem["title"] and problem["detail"] and "request_id" not in problem
        assert problem["status"] < 500 or status == 500, status
    assert json.loads(files["408.http"].partition(b"\r\n\r\n")[2])["code"] == "request_timeout"
    assert json.loads(files["501.http"].partition(b"\r\n\r\n")[2])["status"] == 400


def test_alb_matchers_become_status_checks() -> None:
    """A single code, a list or a range of codes are all expected as ALB would."""
    def expect(matcher: str) -> str:
        group = TargetGroup(logical_id="G", service="s", health=HealthCheck(matcher=matcher))
        balancer = Balancer(name="s", port=1, group=group, targets=(), socket=Path("/s"))
        return next(line for line in _section(_render(balancer), "backend s")
                    if line.startswith("http-check expect"))

    assert expect("200") == "http-check expect status 200"
    assert expect("200,204") == "http-check expect rstatus ^(200|204)$"
    assert expect("200-202") == "http-check expect rstatus ^(200|201|202)$"

