"""ALB target groups, locally: HAProxy configured from the template, its runtime API, health."""

from localaws.elb.haproxy import Balancer, Target, Timeouts, render
from localaws.elb.model import HealthCheck, TargetGroup, target_groups
from localaws.elb.runner import (
    HaproxyMissing,
    find_haproxy,
    socket_path,
    start_balancer,
    status,
)
from localaws.elb.runtime import RuntimeApi

__all__ = ["Balancer", "HaproxyMissing", "HealthCheck", "RuntimeApi", "Target", "TargetGroup",
           "Timeouts", "find_haproxy", "render", "socket_path", "start_balancer", "status",
           "target_groups"]
