"""The network between tasks and their dependencies: per-AZ TCP fault proxies and their control."""

from itinera.localstack.faults.client import FaultControl
from itinera.localstack.faults.control import FaultProxies, create_app
from itinera.localstack.faults.model import MODES, PASS, Fault, FaultError
from itinera.localstack.faults.proxy import FaultProxy, Route

__all__ = ["MODES", "PASS", "Fault", "FaultControl", "FaultError", "FaultProxies", "FaultProxy",
           "Route", "create_app"]
