"""CloudFront, locally: the template's distribution serving the web bucket and /v1/* on one port."""

from itinera.localstack.cloudfront.edge import create_app
from itinera.localstack.cloudfront.model import (
    Behavior,
    Distribution,
    Origin,
    alb_service,
    distribution,
)
from itinera.localstack.cloudfront.runner import Edge, plan, publish_page, start_edge, status
from itinera.localstack.cloudfront.signin import TOKEN_PATH, token_routes

__all__ = ["TOKEN_PATH", "Behavior", "Distribution", "Edge", "Origin", "alb_service",
           "create_app", "distribution", "plan", "publish_page", "start_edge", "status",
           "token_routes"]
