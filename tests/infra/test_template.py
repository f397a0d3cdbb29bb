"""The transformed template holds the whole reference architecture, multi-AZ and locked down."""

from __future__ import annotations

from typing import Any

import pytest

from itinera.localstack.template import Template, TemplateError
from tests.infra.conftest import as_list, az_index, deployed, statements

COMPONENTS = {
    "AWS::EC2::VPC": 1, "AWS::EC2::Subnet": 6, "AWS::EC2::NatGateway": 2,
    "AWS::CloudFront::Distribution": 1, "AWS::WAFv2::WebACL": 1, "AWS::Route53::RecordSet": 1,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": 2, "AWS::ECS::Cluster": 1,
    "AWS::ECS::Service": 3, "AWS::ApiGatewayV2::Api": 1, "AWS::Lambda::Function": 2,
    "AWS::SQS::Queue": 4, "AWS::SNS::Topic": 2, "AWS::SNS::Subscription": 1,
    "AWS::RDS::DBCluster": 1, "AWS::RDS::DBInstance": 2,
    "AWS::ElastiCache::ReplicationGroup": 1, "AWS::DynamoDB::Table": 4, "AWS::S3::Bucket": 5,
    "AWS::CloudWatch::Dashboard": 1, "AWS::CloudTrail::Trail": 1,
    "AWS::SecretsManager::Secret": 2,
}
PRIVATE_SUBNETS = {"PrivateSubnetA", "PrivateSubnetB"}
DATA_SUBNETS = {"DataSubnetA", "DataSubnetB"}


def mentioned(value: Any) -> set[str]:
    """Return every logical id that `Ref`s inside *value* name."""
    if isinstance(value, list):
        return set().union(*[mentioned(v) for v in value]) if value else set()
    if isinstance(value, dict):
        found = {value["Ref"]} if isinstance(value.get("Ref"), str) else set()
        return found.union(*[mentioned(v) for v in value.values()])
    return set()


def refs(values: list[Any]) -> set[str]:
    """Return the logical ids of a list of `Ref`s."""
    return {v["Ref"] for v in values}


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Return the resources of one type."""
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_every_component_of_the_architecture_is_declared(resources: dict[str, Any]) -> None:
    """Network, edge, compute, checkout, data, messaging, monitoring and audit all exist."""
    counts: dict[str, int] = {}
    for resource in resources.values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    missing = {k: v for k, v in COMPONENTS.items() if counts.get(k, 0) < v}
    assert missing == {}


def test_subnets_pair_up_over_two_azs(resources: dict[str, Any]) -> None:
    """Public, private and data subnets each have one subnet in each of two AZs."""
    subnets = of_type(resources, "AWS::EC2::Subnet")
    for tier in ("Public", "Private", "Data"):
        assert {az_index(subnets[f"{tier}Subnet{s}"]["Properties"]["AvailabilityZone"])
                for s in "AB"} == {0, 1}


def test_data_subnets_have_no_route_out(resources: dict[str, Any]) -> None:
    """The data subnets' route table has no route at all, so nothing there talks to outside."""
    associations = of_type(resources, "AWS::EC2::SubnetRouteTableAssociation").values()
    tables = {a["Properties"]["RouteTableId"]["Ref"] for a in associations
              if a["Properties"]["SubnetId"]["Ref"] in DATA_SUBNETS}
    assert tables == {"DataRouteTable"}
    routes = of_type(resources, "AWS::EC2::Route").values()
    assert not [r for r in routes if r["Properties"]["RouteTableId"]["Ref"] == "DataRouteTable"]


def test_data_stores_live_only_in_data_subnets(resources: dict[str, Any]) -> None:
    """Aurora and Redis subnet groups use the data subnets, and no instance is public."""
    assert refs(resources["DbSubnetGroup"]["Properties"]["SubnetIds"]) == DATA_SUBNETS
    assert refs(resources["CacheSubnetGroup"]["Properties"]["SubnetIds"]) == DATA_SUBNETS
    for instance in of_type(resources, "AWS::RDS::DBInstance").values():
        assert instance["Properties"]["PubliclyAccessible"] is False
    for subnet in of_type(resources, "AWS::EC2::Subnet").values():
        assert subnet["Properties"].get("MapPublicIpOnLaunch", False) is False


def test_aurora_has_a_writer_and_a_reader_in_different_azs(resources: dict[str, Any]) -> None:
    """Two Aurora instances in the cluster sit in different AZs; credentials are managed."""
    cluster = resources["AuroraCluster"]["Properties"]
    assert cluster["ManageMasterUserPassword"] is True and cluster["StorageEncrypted"] is True
    instances = [i["Properties"] for i in of_type(resources, "AWS::RDS::DBInstance").values()
                 if i["Properties"]["DBClusterIdentifier"] == {"Ref": "AuroraCluster"}]
    assert len(instances) >= 2
    assert len({az_index(i["AvailabilityZone"]) for i in instances}) >= 2


def test_redis_fails_over_across_azs_and_encrypts(resources: dict[str, Any]) -> None:
    """The Redis replication group is Multi-AZ with automatic failover, encrypted both ways."""
    props = resources["RedisReplicationGroup"]["Properties"]
    assert props["MultiAZEnabled"] is True and props["AutomaticFailoverEnabled"] is True
    assert props["NumCacheClusters"] >= 2
    assert props["AtRestEncryptionEnabled"] is True and props["TransitEncryptionEnabled"] is True
    assert {az_index(az) for az in props["PreferredCacheClusterAZs"]} == {0, 1}


def _scaling(resources: dict[str, Any], service: str) -> tuple[dict[str, Any], list[dict]]:
    targets = [(name, t["Properties"]) for name, t in
               of_type(resources, "AWS::ApplicationAutoScaling::ScalableTarget").items()
               if f"${{{service}.Name}}" in t["Properties"]["ResourceId"]["Fn::Sub"]]
    (target_name, target), = targets
    policies = [p["Properties"]["TargetTrackingScalingPolicyConfiguration"] for p in
                of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
                if p["Properties"]["ScalingTargetId"] == {"Ref": target_name}]
    return target, policies


@pytest.mark.parametrize("service", ["GatewayService", "InventoryService", "NotifierService"])
def test_each_service_runs_two_tasks_over_two_private_azs_and_scales(
        resources: dict[str, Any], service: str) -> None:
    """A service keeps 2+ tasks in both private subnets, rolls back bad deploys, scales on CPU."""
    props = resources[service]["Properties"]
    assert props["DesiredCount"] >= 2
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert refs(network["Subnets"]) == PRIVATE_SUBNETS and network["AssignPublicIp"] == "DISABLED"
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True, "Rollback": True}
    target, policies = _scaling(resources, service)
    assert target["MinCapacity"] >= 2
    kinds = {p.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
             for p in policies}
    assert "ECSServiceAverageCPUUtilization" in kinds


@pytest.mark.parametrize("service", ["GatewayService", "InventoryService"])
def test_load_balanced_services_also_scale_on_requests_per_target(
        resources: dict[str, Any], service: str) -> None:
    """Services behind an ALB track ALBRequestCountPerTarget of their own target group."""
    (balancer,) = resources[service]["Properties"]["LoadBalancers"]
    _, policies = _scaling(resources, service)
    (requests,) = [p["PredefinedMetricSpecification"] for p in policies
                   if p.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
                   == "ALBRequestCountPerTarget"]
    group = balancer["TargetGroupArn"]["Ref"]
    assert f"${{{group}.TargetGroupFullName}}" in requests["ResourceLabel"]["Fn::Sub"]


def test_the_notifier_scales_on_its_queue_backlog(resources: dict[str, Any]) -> None:
    """The notifier, behind no load balancer, tracks its queue's visible messages instead."""
    _, policies = _scaling(resources, "NotifierService")
    custom = [p["CustomizedMetricSpecification"] for p in policies
              if "CustomizedMetricSpecification" in p]
    assert custom and custom[0]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["NotifierQueue", "QueueName"]}


def test_target_groups_check_liveness(resources: dict[str, Any]) -> None:
    """Target groups probe /health, so a shared dependency's outage does not recycle every task."""
    for group in of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        assert group["Properties"]["HealthCheckPath"] == "/health"


def test_every_bucket_is_encrypted_private_versioned_and_expires(resources: dict[str, Any]) -> None:
    """Buckets use SSE, block all public access, keep versions and have lifecycle rules."""
    for name, bucket in of_type(resources, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert props["LifecycleConfiguration"]["Rules"], name


def _all_policy_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents += [(name, p["PolicyDocument"]) for p in props.get("Policies", [])]
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append((name, props["PolicyDocument"]))
    return documents


def test_no_identity_policy_allows_every_action_on_every_resource(
        resources: dict[str, Any]) -> None:
    """No IAM statement (inline, managed, or from a SAM policy template) grants `*` on `*`."""
    documents = _all_policy_documents(resources)
    assert len(documents) >= 10
    for name, document in documents:
        for statement in statements(document):
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement.get("Action", []))
            assert "*" not in actions, name
            assert not (any(a.endswith(":*") for a in actions)
                        and "*" in as_list(statement.get("Resource", []))), name


def test_each_task_and_function_has_its_own_roles(resources: dict[str, Any]) -> None:
    """Each task definition has its own task and execution roles; each function its own role."""
    seen: list[str] = []
    for task in of_type(resources, "AWS::ECS::TaskDefinition").values():
        props = task["Properties"]
        seen += [props["TaskRoleArn"]["Fn::GetAtt"][0], props["ExecutionRoleArn"]["Fn::GetAtt"][0]]
    for function in of_type(resources, "AWS::Lambda::Function").values():
        seen.append(function["Properties"]["Role"]["Fn::GetAtt"][0])
    assert len(seen) == len(set(seen)) >= 3 * 2 + 2


def test_functions_read_only_the_checkout_service_token(resources: dict[str, Any]) -> None:
    """Each checkout function may read checkout's own service token and no other secret."""
    for function in of_type(resources, "AWS::Lambda::Function").values():
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        grants = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])
                  if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        assert len(grants) == 1
        assert mentioned(grants[0]["Resource"]) == {"CheckoutServiceTokenSecret"}
        env = function["Properties"]["Environment"]["Variables"]
        assert env["INTERNAL_TOKEN_SECRET_ARN"] == {"Ref": "CheckoutServiceTokenSecret"}


def test_each_service_holds_only_its_own_inventory_credential(
        resources: dict[str, Any]) -> None:
    """The gateway gets the gateway's token, inventory both callers', and nothing else mixes."""
    def secrets(task: str) -> dict[str, str]:
        (container,) = resources[task]["Properties"]["ContainerDefinitions"]
        return {s["Name"]: s["ValueFrom"]["Ref"] for s in container.get("Secrets", [])
                if isinstance(s["ValueFrom"], dict) and "Ref" in s["ValueFrom"]}

    assert secrets("GatewayTaskDefinition") == {"INTERNAL_TOKEN": "GatewayServiceTokenSecret"}
    assert secrets("InventoryTaskDefinition") == {
        "GATEWAY_SERVICE_TOKEN": "GatewayServiceTokenSecret",
        "CHECKOUT_SERVICE_TOKEN": "CheckoutServiceTokenSecret"}


def test_functions_run_in_the_private_subnets(resources: dict[str, Any]) -> None:
    """Both checkout functions are attached to the VPC's private subnets."""
    for function in of_type(resources, "AWS::Lambda::Function").values():
        assert refs(function["Properties"]["VpcConfig"]["SubnetIds"]) == PRIVATE_SUBNETS


def test_fis_role_can_run_the_game_day_actions(resources: dict[str, Any]) -> None:
    """The FIS role holds the actions of the game-day experiments, each scoped where AWS allows."""
    document = resources["FisExperimentRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_action = {a: s for s in statements(document) for a in as_list(s["Action"])}
    for action in ("ecs:StopTask", "rds:FailoverDBCluster", "elasticache:InterruptClusterAzPower",
                   "lambda:GetFunction", "ssm:SendCommand", "ec2:CreateNetworkAclEntry"):
        assert as_list(by_action[action]["Resource"]) != ["*"], action


EXPECTED_INGRESS = {
    "PublicAlbSecurityGroup": {("world", 80)},
    "GatewaySecurityGroup": {("PublicAlbSecurityGroup", 8080)},
    "InternalAlbSecurityGroup": {("GatewaySecurityGroup", 80),
                                 ("CheckoutFunctionSecurityGroup", 80)},
    "InventorySecurityGroup": {("InternalAlbSecurityGroup", 8081)},
    "DatabaseSecurityGroup": {("InventorySecurityGroup", 3306)},
    # Redis holds the search cache (inventory) and the shared rate-limit counters (gateway).
    "CacheSecurityGroup": {("InventorySecurityGroup", 6379), ("GatewaySecurityGroup", 6379)},
    "NotifierSecurityGroup": set(),
    "CheckoutFunctionSecurityGroup": set(),
}


def _ingress_sources(rule: dict[str, Any]) -> set[tuple[str, int]]:
    if "Fn::If" in rule:
        return _ingress_sources(rule["Fn::If"][1]) | _ingress_sources(rule["Fn::If"][2])
    assert rule["FromPort"] == rule["ToPort"], rule
    if "SourceSecurityGroupId" in rule:
        return {(rule["SourceSecurityGroupId"]["Ref"], rule["FromPort"])}
    if rule.get("CidrIp") == "0.0.0.0/0" or "SourcePrefixListId" in rule:
        return {("world", rule["FromPort"])}
    raise AssertionError(f"unexpected ingress source {rule}")


def test_each_tier_admits_only_its_port_from_the_tier_in_front(resources: dict[str, Any]) -> None:
    """Security groups admit one port from the upstream tier; only the public ALB faces out."""
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


def test_cloudfront_is_always_behind_a_cloudfront_scope_web_acl(cfn: Template) -> None:
    """The distribution uses the stack's web ACL in us-east-1, or the given one elsewhere."""
    distribution = cfn.resources["Distribution"]["Properties"]["DistributionConfig"]
    assert distribution["WebACLId"] == {"Fn::If": [
        "HasWebAclArn", {"Ref": "WebAclArn"}, {"Fn::GetAtt": ["WebAcl", "Arn"]}]}
    acl = cfn.resources["WebAcl"]
    assert acl["Properties"]["Scope"] == "CLOUDFRONT" and acl["Condition"] == "CreateWebAcl"
    assert deployed(cfn, region="us-east-1").condition("CreateWebAcl")
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1"
    assert not deployed(cfn, region="us-east-1", WebAclArn=arn).condition("CreateWebAcl")
    rules = [r["Statement"] for r in acl["Properties"]["Rules"]]
    assert sum("ManagedRuleGroupStatement" in r for r in rules) >= 2
    assert any("RateBasedStatement" in r for r in rules)


def test_outside_us_east_1_the_template_demands_a_web_acl(sam: dict[str, Any]) -> None:
    """A CloudFormation Rule refuses a deployment outside us-east-1 without WebAclArn."""
    rule = sam["Rules"]["WebAclOutsideUsEast1"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [
        {"Ref": "AWS::Region"}, "us-east-1"]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [
        {"Ref": "WebAclArn"}, ""]}]}


def test_the_alias_record_needs_a_zone_and_a_domain(cfn: Template) -> None:
    """Route 53's alias record exists only when both a hosted zone and a domain are given."""
    assert cfn.resources["AliasRecord"]["Condition"] == "HasAliasRecord"
    assert not deployed(cfn).condition("HasAliasRecord")
    assert deployed(cfn, DomainName="www.itinera.example", HostedZoneId="Z1",
                    CloudFrontCertificateArn="arn:aws:acm:us-east-1:1:certificate/x"
                    ).condition("HasAliasRecord")


def test_the_trail_covers_every_region_and_validates_files(resources: dict[str, Any]) -> None:
    """CloudTrail logs all regions with log file validation, after its bucket policy exists."""
    trail = resources["Trail"]
    assert trail["DependsOn"] == "TrailBucketPolicy"
    props = trail["Properties"]
    assert props["IsMultiRegionTrail"] is True and props["EnableLogFileValidation"] is True


def test_every_log_group_has_a_retention(resources: dict[str, Any]) -> None:
    """Each log group expires its events."""
    for group in of_type(resources, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"]


def test_aws_deployment_sends_checkout_to_the_internal_alb(cfn: Template) -> None:
    """With InventoryUrl empty (AWS), the Lambdas get the internal ALB, which is not local."""
    env = cfn.resources["CheckoutApiFunction"]["Properties"]["Environment"]["Variables"]
    with pytest.raises(TemplateError, match="InternalAlb"):
        deployed(cfn).resolve(env["INVENTORY_URL"])
    local = deployed(cfn, InventoryUrl="http://127.0.0.1:8081")
    assert local.resolve(env["INVENTORY_URL"]) == "http://127.0.0.1:8081"
