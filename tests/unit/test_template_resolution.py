"""The local stack reads its AWS resources and functions from the SAM template."""

from __future__ import annotations

import pytest

from localaws.functions import functions
from localaws.resources import Deployed
from localaws.template import (
    CREATED_BY_STACK,
    Template,
    TemplateError,
    check_known_types,
    load_sam,
    stack_body,
    transform,
)

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/itinera-dev-checkout"


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    """The real template, transformed, with physical ids as moto names them."""
    template = transform(load_sam(), region="eu-west-1",
                         parameters={"InventoryUrl": "http://127.0.0.1:8081",
                                     "RedisUrl": "redis://127.0.0.1:6379/0"})
    physical = {name: f"itinera-dev-{name.lower()}" for name in template.of_type(
        "AWS::DynamoDB::Table", "AWS::S3::Bucket")}
    for name in template.of_type("AWS::SQS::Queue"):
        physical[name] = QUEUE_URL.replace("itinera-dev-checkout", f"q-{name}")
    for name in template.of_type("AWS::SNS::Topic"):
        physical[name] = f"arn:aws:sns:eu-west-1:123456789012:t-{name}"
    return Deployed(template=template, region="eu-west-1", stack_name="itinera-dev",
                    physical=physical)


def test_stack_body_holds_only_what_moto_creates(deployed: Deployed) -> None:
    """The body sent to moto has tables, queues, topics and buckets, and nothing else."""
    body = stack_body(deployed.template)
    assert body["Resources"]
    assert {r["Type"] for r in body["Resources"].values()} <= CREATED_BY_STACK
    assert {"BookingsTable", "IdempotencyTable", "CheckoutQueue", "CheckoutDeadLetterQueue",
            "BookingEventsTopic", "NotifierQueue", "ItinerariesBucket"} <= set(body["Resources"])


def test_unknown_resource_types_are_refused() -> None:
    """A resource type without a local plan stops the stack instead of vanishing silently."""
    template = Template(resources={"Db": {"Type": "AWS::AppSync::GraphQLApi"}}, parameters={})
    with pytest.raises(TemplateError, match="AWS::AppSync::GraphQLApi"):
        check_known_types(template)


def test_functions_get_resolved_environment_routes_and_queues(deployed: Deployed) -> None:
    """Each function gets its env from Globals, the API its routes, the worker its queue."""
    specs = functions(deployed)
    api, worker = specs["CheckoutApiFunction"], specs["CheckoutWorkerFunction"]
    assert api.handler == "checkout.api.handler"
    assert api.environment["BOOKINGS_TABLE"] == "itinera-dev-bookingstable"
    assert api.environment["INVENTORY_URL"] == "http://127.0.0.1:8081"
    assert {r.route_key for r in api.routes} >= {"POST /v1/bookings", "GET /v1/bookings",
                                                 "GET /v1/bookings/{booking_id}"}
    assert all(r.kind == "rest" and r.stage == "live" for r in api.routes)
    assert all(r.authorizer == {"type": "cognito_user_pools", "scopes": ["itinera/traveller"]}
               for r in api.routes)
    assert not api.queues
    (queue,) = worker.queues
    assert queue.queue_url.endswith("q-CheckoutQueue")
    assert queue.report_item_failures and queue.batch_size == 10
    assert queue.visibility_timeout == 180


def test_intrinsics_resolve_against_physical_ids(deployed: Deployed) -> None:
    """Ref, GetAtt and Sub give what CloudFormation would give."""
    assert deployed.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert deployed.resolve({"Fn::GetAtt": ["CheckoutQueue", "Arn"]}) == \
        "arn:aws:sqs:eu-west-1:123456789012:q-CheckoutQueue"
    assert deployed.resolve({"Fn::Sub": "${Stage}-${BookingsTable}"}) == \
        "dev-itinera-dev-bookingstable"


def test_the_intrinsics_of_the_fis_templates_resolve_as_cloudformation_does(
        deployed: Deployed) -> None:
    """Fn::Cidr carves a block as CloudFormation documents it; Fn::GetAZs gives the local
    AZs; Fn::Split splits; Ref of a named resource that is not emulated gives its name; a
    role's Arn names the role."""
    assert deployed.resolve({"Fn::Cidr": ["192.168.0.0/24", 6, 5]}) == [
        "192.168.0.0/27", "192.168.0.32/27", "192.168.0.64/27", "192.168.0.96/27",
        "192.168.0.128/27", "192.168.0.160/27"]
    assert deployed.resolve({"Fn::GetAZs": ""}) == ["az-a", "az-b"]
    assert deployed.resolve({"Fn::Split": [",", "a,b"]}) == ["a", "b"]
    assert deployed.resolve({"Ref": "Cluster"}) == "itinera-dev"
    assert deployed.resolve({"Ref": "AuroraCluster"}) == "itinera-dev"
    assert deployed.resolve({"Ref": "RedisReplicationGroup"}) == \
        "itinera-dev-redisreplicationgroup"
    assert deployed.resolve({"Fn::GetAtt": ["FisExperimentRole", "Arn"]}) == \
        "arn:aws:iam::123456789012:role/FisExperimentRole"
