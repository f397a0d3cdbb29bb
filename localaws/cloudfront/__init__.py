"""CloudFront, locally: the template's distribution serving the web bucket and /v1/* on one port."""

from localaws.cloudfront.edge import create_app
from localaws.cloudfront.model import (
    Behavior,
    Distribution,
    Origin,
    alb_service,
    distribution,
)
from localaws.cloudfront.runner import Edge, plan, publish_page, start_edge, status
from localaws.cloudfront.signin import TOKEN_PATH, token_routes

__all__ = ["TOKEN_PATH", "Behavior", "Distribution", "Edge", "Origin", "alb_service",
           "create_app", "distribution", "plan", "publish_page", "start_edge", "status",
           "token_routes"]
