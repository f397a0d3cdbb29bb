"""Draw docs/architecture.png from code with the official AWS icons (`make diagram`)."""

from __future__ import annotations

from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.compute import ECS, Fargate, Lambda
from diagrams.aws.database import Aurora, Dynamodb, ElasticacheForRedis
from diagrams.aws.integration import SNS, SQS
from diagrams.aws.management import Cloudtrail, Cloudwatch
from diagrams.aws.network import (
    ALB,
    APIGateway,
    CloudFront,
    ElbApplicationLoadBalancer,
    NATGateway,
    Route53,
)
from diagrams.aws.security import WAF, IAMRole, SecretsManager
from diagrams.aws.storage import S3
from diagrams.onprem.client import Users

OUT = Path(__file__).resolve().parent / "architecture"


def draw() -> None:
    """Render the deployed architecture of infra/sam/template.yaml as a PNG."""
    with Diagram("Itinera on AWS (infra/sam/template.yaml)", filename=str(OUT), show=False,
                 outformat="png", direction="LR",
                 graph_attr={"fontsize": "20", "pad": "0.4", "splines": "spline"}):
        travellers = Users("travellers")
        dns = Route53("Route 53")
        with Cluster("edge (global)"):
            waf = WAF("WAF web ACL\nmanaged rules + rate limit")
            cdn = CloudFront("CloudFront")
            web = S3("web page\n(OAC)")
        with Cluster("VPC over two AZs"):
            with Cluster("public subnets"):
                alb = ALB("public ALB")
                nat = NATGateway("NAT x2")
            with Cluster("private subnets (ECS Fargate, 2+ tasks per AZ pair)"):
                gateway = Fargate("gateway")
                internal = ElbApplicationLoadBalancer("internal ALB")
                inventory = Fargate("inventory")
                notifier = Fargate("notifier")
                with Cluster("checkout Lambdas (in VPC)"):
                    api_fn = Lambda("checkout-api")
                    worker = Lambda("checkout-worker")
            with Cluster("data subnets (no route out)"):
                aurora = Aurora("Aurora MySQL\nwriter + reader")
                redis = ElasticacheForRedis("Redis\nMulti-AZ")
        http_api = APIGateway("HTTP API\n(JWT)")
        with Cluster("managed data and messaging"):
            tables = Dynamodb("bookings, idempotency,\npayments, notifications")
            queue = SQS("checkout queue\n+ DLQ")
            topic = SNS("booking-events")
            notify_queue = SQS("notifier queue\n+ DLQ")
            itineraries = S3("itineraries,\nbackups")
        with Cluster("operations"):
            ops = [Cloudwatch("alarms +\ndashboard"), Cloudtrail("CloudTrail"),
                   IAMRole("FIS experiment\nrole"), SecretsManager("secrets"),
                   ECS("ECS cluster")]

        travellers >> dns >> cdn
        waf - Edge(style="dashed") - cdn
        cdn >> web
        cdn >> alb >> gateway
        gateway >> internal >> inventory
        inventory >> aurora
        inventory >> redis
        gateway >> http_api >> api_fn
        api_fn >> tables
        api_fn >> queue >> worker
        worker >> internal
        worker >> tables
        worker >> topic >> notify_queue >> notifier
        notifier >> itineraries
        gateway >> Edge(style="dotted") >> nat
        ops[0] - Edge(style="invis") - ops[1]


if __name__ == "__main__":
    draw()
