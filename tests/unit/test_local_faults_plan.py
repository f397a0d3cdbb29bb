"""Where the stack's fault proxies listen, and what each AZ's tasks are pointed at."""

from __future__ import annotations

from localaws.config import AZS, StackConfig
from localaws.faults import plan


def test_proxy_ports_are_the_stacks_own_and_collide_with_nothing() -> None:
    """With fault proxies on, their ports are among the stack's and no other port repeats."""
    config = StackConfig(port_base=20000, fault_proxies=True)
    assert set(config.fault_ports) <= set(config.all_ports)
    assert len(config.all_ports) == len(set(config.all_ports))
    assert not set(config.fault_ports) & set(StackConfig(port_base=20000).all_ports)


def test_one_route_per_dependency_and_az_towards_the_shared_servers() -> None:
    """MariaDB, Redis and moto each get a proxy in each AZ, forwarding to the one server."""
    config = StackConfig(port_base=20000, fault_proxies=True)
    routes = plan.routes(config, mysql=("127.0.0.1", 3306), redis=("127.0.0.1", 6379))
    assert {(r.dependency, r.az) for r in routes} == {
        (d, az) for d in ("mariadb", "redis", "moto") for az in AZS}
    assert {r.name: r.upstream_port for r in routes if r.az == "az-b"} == {
        "mariadb-az-b": 3306, "redis-az-b": 6379, "moto-az-b": config.moto_port}


def test_each_az_reaches_its_dependencies_through_its_own_proxies() -> None:
    """az-a's environment names az-a's proxy ports, with the stack's Redis database."""
    config = StackConfig(port_base=20000, fault_proxies=True, redis_db=4)
    routes = plan.routes(config, mysql=("127.0.0.1", 3306), redis=("127.0.0.1", 6379))
    port = {r.name: r.listen_port for r in routes}
    env = plan.az_env(routes, "az-a", redis_db=4)
    assert env == {"DB_HOST": "127.0.0.1", "DB_PORT": str(port["mariadb-az-a"]),
                   "REDIS_URL": f"redis://127.0.0.1:{port['redis-az-a']}/4",
                   "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port['moto-az-a']}"}
