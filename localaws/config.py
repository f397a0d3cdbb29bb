"""Ports, names and folders of one local stack, and where its AWS SDKs point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
# Two simulated availability zones: the ECS stand-in spreads each service's tasks over them,
# and the local load balancers (HAProxy) spread requests over the healthy ones, as ALBs do.
AZS = ("az-a", "az-b")
# Task ports, from port_base: room for every service at its maximum (3 x 10) plus tasks
# starting or draining beside them, below the next stack's base (tests space bases by 100).
TASK_PORT_FIRST, TASK_PORT_COUNT = 20, 60
# The fault proxies: their control API at this offset, past the task ports, then one port per
# dependency and AZ, in this order.
FAULT_PROXY_OFFSET = 80
FAULT_DEPENDENCIES = ("mariadb", "redis", "moto")
# Control-plane times from the template (health-check intervals and timeouts, deregistration
# delays; later alarm periods and scaling cooldowns) run this many times faster locally, so
# a 10 s health-check interval is 1 s here and a game day takes minutes, not hours. Times
# that bound real work (request and idle timeouts) are not scaled. ITINERA_TIME_SCALE
# overrides it (1 runs AWS's own times: 60 s metric periods); every process of one stack
# inherits the same environment, so they all agree.
TIME_SCALE_ENV = "ITINERA_TIME_SCALE"
DEFAULT_TIME_SCALE = 0.1


# The local stage's abuse limits: production's (itinera/limits/policies.py), except where one
# machine makes every client look alike. Every client comes from 127.0.0.1, so the budgets per
# address are wide, and every traveller pays with the simulator's three test cards, so the
# budgets per card are too. LIMITS in the environment is added last and wins.
LOCAL_LIMITS = ("search=1000/2s,search-address=10000/2s,card-attempts=100000/1h,"
                "card-declines=100000/1h")


def local_limits(env: Mapping[str, str] = os.environ) -> str:
    """Return the local stage's `LIMITS`, with the environment's own overrides after it."""
    return ",".join(filter(None, [LOCAL_LIMITS, env.get("LIMITS", "")]))


def time_scale(env: Mapping[str, str] = os.environ) -> float:
    """Return the time scale *env* asks for (ITINERA_TIME_SCALE), or the default."""
    raw = env.get(TIME_SCALE_ENV) or ""
    if not raw:
        return DEFAULT_TIME_SCALE
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError(f"{TIME_SCALE_ENV}={raw}: expected a number in (0, 1]")
    return value


LOCAL_TIME_SCALE = time_scale()


def local_seconds(aws_seconds: float) -> float:
    """Return how long *aws_seconds* of AWS control-plane time lasts in the local stack."""
    return aws_seconds * LOCAL_TIME_SCALE


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    """Ports, names and folders of one local stack; tests run a second one beside `make run`."""

    port_base: int = 8080
    state_dir: Path = ROOT / ".local"
    stage: str = "dev"
    database: str = "itinera"
    redis_db: int = 0
    seed_size: str = "small"
    region: str = REGION
    # Each process calls moto with its own template role, which moto enforces (iam.py).
    enforce_iam: bool = False
    # Each AZ's tasks reach MariaDB, Redis and moto through that AZ's fault proxy
    # (localaws/faults), so a game day can cut, delay or drop their traffic.
    fault_proxies: bool = False
    # The CloudWatch side (metrics agent, alarm evaluator) and the autoscaler on top of it;
    # `itinera bench` turns both off: fixed task counts, and no local stand-in for CloudWatch
    # Logs' extraction eating the CPU the services are measured on.
    monitoring: bool = True
    autoscaling: bool = True

    @property
    def gateway_port(self) -> int:
        """Return the public port."""
        return self.port_base

    @property
    def inventory_port(self) -> int:
        """Return the inventory service's port."""
        return self.port_base + 1

    @property
    def checkout_api_port(self) -> int:
        """Return the port of the local HTTP API in front of the checkout API function."""
        return self.port_base + 2

    @property
    def cloudfront_port(self) -> int:
        """Return the local CloudFront distribution's port: the page, and /v1/* behind it."""
        return self.port_base + 5

    @property
    def task_ports(self) -> range:
        """Return the ports the ECS stand-in gives its tasks, one each, as they start."""
        first = self.port_base + TASK_PORT_FIRST
        return range(first, first + TASK_PORT_COUNT)

    @property
    def all_ports(self) -> list[int]:
        """Return every port the stack listens on (task ports: whichever are in use)."""
        faults = self.fault_ports if self.fault_proxies else []
        return [self.gateway_port, self.inventory_port, self.checkout_api_port,
                self.cloudfront_port, self.moto_port, self.fis_port, self.ecs_port,
                *self.task_ports, *faults]

    @property
    def fault_ports(self) -> list[int]:
        """Return the fault proxies' ports: the control API's, then each proxy's."""
        count = 1 + len(FAULT_DEPENDENCIES) * len(AZS)
        return [self.port_base + FAULT_PROXY_OFFSET + i for i in range(count)]

    @property
    def moto_port(self) -> int:
        """Return the AWS emulator's port."""
        return self.port_base + 10

    @property
    def fis_port(self) -> int:
        """Return the FIS stand-in's port (tools reach it through moto's endpoint)."""
        return self.port_base + 11

    @property
    def ecs_port(self) -> int:
        """Return the port of the ECS stand-in that runs tasks on demand (RunTask)."""
        return self.port_base + 12

    @property
    def moto_url(self) -> str:
        """Return the AWS emulator's endpoint."""
        return f"http://127.0.0.1:{self.moto_port}"


def aws_env(config: StackConfig) -> dict[str, str]:
    """Return the variables that point AWS SDKs at the emulator."""
    return {"AWS_ENDPOINT_URL": config.moto_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": config.region, "AWS_REGION": config.region}
