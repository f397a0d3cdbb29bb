"""The network between tasks and their dependencies: per-AZ TCP fault proxies and their control."""

from localaws.faults.client import FaultControl
from localaws.faults.control import FaultProxies, create_app
from localaws.faults.model import MODES, PASS, Fault, FaultError
from localaws.faults.proxy import FaultProxy, Route

__all__ = ["MODES", "PASS", "Fault", "FaultControl", "FaultError", "FaultProxies", "FaultProxy",
           "Route", "create_app"]
