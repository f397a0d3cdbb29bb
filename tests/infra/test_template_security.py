"""The templates keep traffic encrypted and private: TLS to Redis, MySQL and the origin, no public
load balancer, a private checkout API, keys CloudTrail can use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import (
    ROOT,
    as_list,
    env_of,
    of_type,
    raw,
    service_container,
    statements,
)

# ------------------------------------------------------------ finding 1


@pytest.mark.parametrize("task", ["GatewayTaskDefinition", "InventoryTaskDefinition"])
def test_tasks_reach_elasticache_over_tls(resources: dict[str, Any], task: str) -> None:
    """ElastiCache encrypts in transit, so every REDIS_URL the template sets is rediss://."""
    url = env_of(resources, task)["REDIS_URL"]["Fn::Sub"][0]
    assert url.startswith("rediss://")


# ------------------------------------------------------------ finding 3


def test_inventory_logs_in_as_its_own_user_with_iam_tokens(resources: dict[str, Any]) -> None:
    """Inventory connects as itinera_app with IAM tokens over verified TLS, never as master."""
    env = env_of(resources, "InventoryTaskDefinition")
    cluster = resources["AuroraCluster"]["Properties"]
    assert env["DB_AUTH"] == "iam" and env["DB_USER"] != cluster["MasterUsername"]
    assert cluster["EnableIAMDatabaseAuthentication"] is True
    container = service_container(resources, "InventoryTaskDefinition")
    assert "DB_PASSWORD" not in {s["Name"] for s in container["Secrets"]}
    assert "MasterUserSecret" not in json.dumps(container)
    policy = resources["InventoryTaskPolicy"]["Properties"]["PolicyDocument"]
    (grant,) = statements(policy)
    assert grant["Action"] == "rds-db:connect"
    assert grant["Resource"]["Fn::Sub"][0].endswith(f"/{env['DB_USER']}")
    dockerfile = (ROOT / "infra" / "sam" / "docker" / "inventory.Dockerfile").read_text()
    assert env["DB_SSL_CA"] in dockerfile


def test_aurora_requires_tls_and_logs_what_it_exports(resources: dict[str, Any]) -> None:
    """The cluster parameter group forces TLS and turns on the logs the cluster exports,
    whose log groups exist first with a retention."""
    cluster = resources["AuroraCluster"]
    group = resources[cluster["Properties"]["DBClusterParameterGroupName"]["Ref"]]
    settings = group["Properties"]["Parameters"]
    assert settings["require_secure_transport"] == "ON"
    assert settings["server_audit_logging"] == "1" and settings["slow_query_log"] == "1"
    exported = set(cluster["Properties"]["EnableCloudwatchLogsExports"])
    groups = [resources[name]["Properties"] for name in cluster["DependsOn"]]
    assert {g["LogGroupName"]["Fn::Sub"][0].rsplit("/", 1)[1] for g in groups} == exported
    assert all(g["RetentionInDays"] for g in groups)


# ------------------------------------------------------------ finding 4


def test_no_load_balancer_and_no_port_faces_the_internet(resources: dict[str, Any]) -> None:
    """Both ALBs are internal and no security group admits 0.0.0.0/0."""
    for balancer in of_type(resources, "AWS::ElasticLoadBalancingV2::LoadBalancer").values():
        assert balancer["Properties"]["Scheme"] == "internal"
    for name, group in of_type(resources, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0", name


def test_cloudfront_reaches_the_gateway_over_https_through_a_vpc_origin(
        resources: dict[str, Any]) -> None:
    """The gateway origin is a VPC origin on the internal ALB, HTTPS only, and the ALB's
    listener is HTTPS with a modern policy and a certificate for the origin's name."""
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == "gateway"]
    vpc_origin = resources[origin["VpcOriginConfig"]["VpcOriginId"]["Ref"]]["Properties"]
    endpoint = vpc_origin["VpcOriginEndpointConfig"]
    assert endpoint["Arn"] == {"Ref": "PublicAlb"}
    assert endpoint["OriginProtocolPolicy"] == "https-only"
    assert "CustomOriginConfig" not in origin
    listeners = of_type(resources, "AWS::ElasticLoadBalancingV2::Listener")
    (listener,) = [lst["Properties"] for lst in listeners.values()
                   if lst["Properties"]["LoadBalancerArn"] == {"Ref": "PublicAlb"}]
    assert listener["Protocol"] == "HTTPS" and listener["SslPolicy"].startswith(
        "ELBSecurityPolicy-TLS13")
    certificate = resources[listener["Certificates"][0]["CertificateArn"]["Ref"]]["Properties"]
    assert certificate["DomainName"] == origin["DomainName"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_cloudfront_always_has_the_edge_stacks_web_acl(sam: dict[str, Any],
                                                        resources: dict[str, Any]) -> None:
    """The distribution's web ACL is a required us-east-1 parameter that edge.yaml outputs."""
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Ref": "WebAclArn"}
    parameter = sam["Parameters"]["WebAclArn"]
    assert "Default" not in parameter and ":us-east-1:" in parameter["AllowedPattern"]
    edge = raw("edge.yaml")
    acl = edge["Resources"]["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    rules = [r["Statement"] for r in acl["Rules"]]
    assert sum("ManagedRuleGroupStatement" in r for r in rules) >= 2
    assert any("RateBasedStatement" in r for r in rules)
    assert edge["Outputs"]["WebAclArn"]["Value"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}


# ------------------------------------------------------------ finding 5


def test_the_checkout_api_is_private_throttled_and_reached_without_nat(
        resources: dict[str, Any]) -> None:
    """The REST API is PRIVATE, admits only the VPC's execute-api endpoint (which only the
    gateway may use), throttles its stage, and the gateway calls it by that endpoint."""
    api = resources["CheckoutApi"]["Properties"]
    assert api["EndpointConfiguration"] == {"Types": ["PRIVATE"],
                                            "VpcEndpointIds": [{"Ref": "ExecuteApiEndpoint"}]}
    policy = json.dumps(api["Body"]["x-amazon-apigateway-policy"])
    assert "aws:SourceVpce" in policy and "ExecuteApiEndpoint" in policy
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage").values()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert setting["ThrottlingRateLimit"] and setting["ThrottlingBurstLimit"]
    endpoint = resources["ExecuteApiEndpoint"]["Properties"]
    assert endpoint["PrivateDnsEnabled"] is True
    group = resources[endpoint["SecurityGroupIds"][0]["Ref"]]["Properties"]
    assert [r["SourceSecurityGroupId"] for r in group["SecurityGroupIngress"]] == [
        {"Ref": "GatewaySecurityGroup"}]
    url = env_of(resources, "GatewayTaskDefinition")["CHECKOUT_API_URL"]["Fn::Sub"]
    assert url.startswith("https://${CheckoutApi}.execute-api.")
    assert not of_type(resources, "AWS::ApiGatewayV2::Api")


def test_checkout_routes_need_a_traveller_token_from_the_user_pool(
        resources: dict[str, Any]) -> None:
    """Every API method uses the Cognito authorizer of the stage's user pool, traveller scope."""
    body = resources["CheckoutApi"]["Properties"]["Body"]
    (scheme,) = body["securityDefinitions"].values()
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    methods = [m for ops in body["paths"].values() for m in ops.values()]
    assert len(methods) == 4
    assert all(m["security"] == [{"TravellerPool": ["itinera/traveller"]}] for m in methods)


# ------------------------------------------------------------ finding 6


def test_no_key_policy_conditions_describe_key_on_an_encryption_context(
        resources: dict[str, Any]) -> None:
    """DescribeKey calls carry no encryption context; a statement that needs one denies them."""
    for name, key in of_type(resources, "AWS::KMS::Key").items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            if "kms:DescribeKey" in as_list(statement["Action"]):
                assert "EncryptionContext" not in json.dumps(statement.get("Condition", {})), name



EXPECTED_INGRESS = {
    "PublicAlbSecurityGroup": {("private-subnets", 443)},
    "GatewaySecurityGroup": {("PublicAlbSecurityGroup", 8080)},
    "InternalAlbSecurityGroup": {("GatewaySecurityGroup", 80),
                                 ("CheckoutFunctionSecurityGroup", 80)},
    "InventorySecurityGroup": {("InternalAlbSecurityGroup", 8081)},
    "DatabaseSecurityGroup": {("InventorySecurityGroup", 3306)},
    # Redis holds the search cache (inventory) and the abuse limits' counters and hold ledger
    # (the gateway and the checkout functions).
    "CacheSecurityGroup": {("InventorySecurityGroup", 6379), ("GatewaySecurityGroup", 6379),
                           ("CheckoutFunctionSecurityGroup", 6379)},
    "ExecuteApiEndpointSecurityGroup": {("GatewaySecurityGroup", 443)},
    "NotifierSecurityGroup": set(),
    "CheckoutFunctionSecurityGroup": set(),
}


def _ingress_sources(rule: dict[str, Any]) -> set[tuple[str, int]]:
    assert rule["FromPort"] == rule["ToPort"], rule
    if "SourceSecurityGroupId" in rule:
        return {(rule["SourceSecurityGroupId"]["Ref"], rule["FromPort"])}
    if "Fn::Cidr" in json.dumps(rule.get("CidrIp")):
        return {("private-subnets", rule["FromPort"])}
    raise AssertionError(f"unexpected ingress source {rule}")


def test_each_tier_admits_only_its_port_from_the_tier_in_front(resources: dict[str, Any]) -> None:
    """Security groups admit one port from the upstream tier; nothing admits the internet."""
    groups = of_type(resources, "AWS::EC2::SecurityGroup")
    assert not of_type(resources, "AWS::EC2::SecurityGroupIngress")
    actual = {name: set().union(*[_ingress_sources(r) for r in
                                  g["Properties"].get("SecurityGroupIngress", [])])
              for name, g in groups.items()}
    assert actual == EXPECTED_INGRESS


def test_data_tier_security_groups_have_no_egress(resources: dict[str, Any]) -> None:
    """Aurora's and Redis's security groups replace the default allow-all egress with nothing."""
    for name in ("DatabaseSecurityGroup", "CacheSecurityGroup"):
        (rule,) = resources[name]["Properties"]["SecurityGroupEgress"]
        assert rule["CidrIp"] == "127.0.0.1/32"


