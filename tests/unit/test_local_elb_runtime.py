"""The runtime API's answers parse into server states, target health and per-AZ figures."""

from __future__ import annotations

import pytest

from localaws.elb import runner
from localaws.elb.metrics import az_of, by_az, health_of
from localaws.elb.runtime import RuntimeApiError, parse_servers_state, parse_stat

# Answers of HAProxy 2.6.12 (trimmed to the columns that matter, in its order).
SERVERS_STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight \
srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state \
srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl \
srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 gateway 1 gateway-az-a 127.0.0.1 2 0 1 1 117 15 3 4 6 0 0 0 - 39100 - 0 0 - - 0
3 gateway 2 gateway-az-b 127.0.0.1 0 8 1 1 4 15 2 0 6 0 0 0 - 39101 - 0 0 - - 0
3 gateway 3 gateway-az-a.fail-open 127.0.0.1 2 1 1 1 117 1 0 2 0 0 0 0 - 39100 - 0 0 - - 0

"""
STAT = """# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,\
wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,\
lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,\
hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,-,
gateway,FRONTEND,,,0,1,2048,7,51855,1241,2,0,5,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,3,,,,0,9,0,2,1,0,,
gateway,gateway-az-a,0,0,1,3,,40,0,0,,0,,2,1,3,1,UP,1,1,0,0,0,117,0,,1,3,1,,40,,2,0,,0,L7OK,200,1,\
0,30,0,4,1,0,,
gateway,gateway-az-b,0,0,0,0,,9,0,0,,0,,0,0,0,0,DOWN 1/2,1,1,0,3,1,4,4,,1,3,2,,9,,2,0,,0,L7STS,\
500,1,0,8,0,0,0,0,,
gateway,gateway-az-a.fail-open,0,0,0,1,,2,0,0,,0,,0,0,0,0,no check,1,0,1,0,0,117,0,,1,3,3,,2,,\
2,0,,0,,,,0,2,0,0,0,0,,
gateway,BACKEND,0,0,1,3,205,51,0,0,0,0,,2,1,3,1,UP,1,1,1,,0,117,0,,1,3,0,,51,,1,0,,0,,,,0,40,0,\
4,1,0,,
"""


def test_servers_state_reads_operational_and_admin_states() -> None:
    """Running, stopped, drained and maintained servers are told apart, with their ports."""
    a, b, a_open = parse_servers_state(SERVERS_STATE)
    assert (a.backend, a.name, a.port, a.op_state) == ("gateway", "gateway-az-a", 39100,
                                                       "running")
    assert not a.maintenance and not a.draining and a.check_health == 4
    assert (b.op_state, b.draining, b.maintenance) == ("stopped", True, False)
    assert a_open.maintenance and a_open.name.endswith(".fail-open")


def test_an_answer_in_another_format_is_an_error() -> None:
    """An error message from HAProxy is not mistaken for an empty server list."""
    with pytest.raises(RuntimeApiError):
        parse_servers_state("Can't find backend.\n")
    with pytest.raises(RuntimeApiError):
        parse_stat("Unknown command\n")


def test_stat_rows_are_keyed_by_column_name() -> None:
    """Each proxy and server line becomes a dict of HAProxy's own column names."""
    rows = parse_stat(STAT)
    assert [r["svname"] for r in rows] == ["FRONTEND", "gateway-az-a", "gateway-az-b",
                                           "gateway-az-a.fail-open", "BACKEND"]
    assert rows[1]["status"] == "UP" and rows[1]["hrsp_2xx"] == "30"
    assert "-" not in rows[0] and "" not in rows[0]


def test_haproxy_states_read_as_alb_target_health() -> None:
    """Transitional states keep their side until a threshold flips them, as ALB reports."""
    assert health_of("UP") == "healthy"
    assert health_of("UP 1/3") == "healthy"
    assert health_of("DOWN 1/2") == "unhealthy"
    assert health_of("DRAIN") == "draining"
    assert health_of("MAINT (via gateway/x)") == "unused"
    assert health_of("no check") == "unavailable"


def test_servers_are_placed_in_their_az_by_name() -> None:
    """A server's AZ is the end of its name, fail-open twins included."""
    assert az_of("gateway-az-a") == "az-a"
    assert az_of("inventory-az-b.fail-open") == "az-b"
    assert az_of("gateway-az-b-12") == "az-b"
    assert az_of("inventory-az-a-3.fail-open") == "az-a"
    assert az_of("BACKEND") is None


def test_figures_add_up_per_az_and_twins_count_traffic_not_health() -> None:
    """az-a sums its server and its fail-open twin; health counts checked servers only."""
    figures = by_az(parse_stat(STAT), "gateway")
    a, b = figures["az-a"], figures["az-b"]
    assert (a.http_2xx, a.http_4xx, a.http_5xx) == (32, 4, 1)
    assert (a.connection_errors, a.response_errors, a.retries, a.redispatches) == (2, 1, 3, 1)
    assert (a.healthy, a.unhealthy, a.in_flight) == (1, 0, 1)
    assert (b.healthy, b.unhealthy, b.http_2xx) == (0, 1, 8)


def test_a_missing_haproxy_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without haproxy on the machine the stack stops at once with the install command."""
    monkeypatch.setattr(runner, "find_binary", lambda *names: None)
    with pytest.raises(runner.HaproxyMissing, match="apt-get install haproxy"):
        runner.find_haproxy()
