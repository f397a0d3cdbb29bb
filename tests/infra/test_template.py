"""The templates hold the whole reference architecture, multi-AZ and deployable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localaws.template import Template, TemplateError, load_sam
from tests.infra.conftest import (
    PRIVATE_SUBNETS,
    SAM_DIR,
    az_index,
    deployed,
    env_of,
    mentioned,
    of_type,
    raw,
    refs,
    statements,
)

COMPONENTS = {
    "AWS::EC2::VPC": 1, "AWS::EC2::Subnet": 6, "AWS::EC2::NatGateway": 2,
    "AWS::CloudFront::Distribution": 1, "AWS::CloudFront::VpcOrigin": 1,
    "AWS::Route53::RecordSet": 2, "AWS::ElasticLoadBalancingV2::LoadBalancer": 2,
    "AWS::ECS::Cluster": 1, "AWS::ECS::Service": 3, "AWS::ApiGateway::RestApi": 1,
    "AWS::Lambda::Function": 3, "AWS::SQS::Queue": 4, "AWS::SNS::Topic": 2,
    "AWS::SNS::Subscription": 1, "AWS::RDS::DBCluster": 1, "AWS::RDS::DBInstance": 2,
    "AWS::ElastiCache::ReplicationGroup": 1, "AWS::DynamoDB::Table": 4, "AWS::S3::Bucket": 6,
    "AWS::CloudWatch::Dashboard": 1, "AWS::CloudTrail::Trail": 1,
    "AWS::SecretsManager::Secret": 2, "AWS::Cognito::UserPool": 1,
    "AWS::Backup::BackupPlan": 1,
}
DATA_SUBNETS = {"DataSubnetA", "DataSubnetB"}
STATEFUL = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic",
            "AWS::RDS::DBCluster", "AWS::Cognito::UserPool", "AWS::SecretsManager::Secret",
            "AWS::Backup::BackupVault"}



def test_every_component_of_the_architecture_is_declared(resources: dict[str, Any]) -> None:
    """Network, edge, compute, checkout, data, messaging, monitoring and audit all exist."""
    counts: dict[str, int] = {}
    for resource in resources.values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    missing = {k: v for k, v in COMPONENTS.items() if counts.get(k, 0) < v}
    assert missing == {}


def test_the_root_is_a_short_list_of_nested_stacks() -> None:
    """template.yaml holds only nested stacks; each service comes from the one service.yaml."""
    root = raw("template.yaml")["Resources"]
    assert {r["Type"] for r in root.values()} == {"AWS::CloudFormation::Stack"}
    assert {r["Properties"]["TemplateURL"] for r in root.values()} == {
        "network.yaml", "data.yaml", "ingress.yaml", "app.yaml", "monitoring.yaml", "chaos.yaml"}
    app = raw("app.yaml")["Resources"]
    services = {n for n, r in app.items() if r["Type"] == "AWS::CloudFormation::Stack"}
    assert services == {"Gateway", "Inventory", "Notifier"}
    assert {app[n]["Properties"]["TemplateURL"] for n in services} == {"service.yaml"}
    assert app["CheckoutApp"]["Properties"]["Location"] == "checkout.yaml"


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
    """Two Aurora instances in the cluster sit in different AZs; storage is encrypted."""
    cluster = resources["AuroraCluster"]["Properties"]
    assert cluster["StorageEncrypted"] is True
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


# ------------------------------------------------------------ finding 7


@pytest.mark.parametrize("service", ["GatewayService", "InventoryService", "NotifierService"])
def test_each_service_runs_two_tasks_over_two_private_azs_and_scales(
        resources: dict[str, Any], service: str) -> None:
    """A service has no DesiredCount (a deploy would reset autoscaling), keeps 2+ tasks in
    both private subnets through its scalable target, rolls back bad deploys, scales on CPU."""
    props = resources[service]["Properties"]
    assert "DesiredCount" not in props
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert refs(network["Subnets"]) == PRIVATE_SUBNETS and network["AssignPublicIp"] == "DISABLED"
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True, "Rollback": True}
    target, policies = _scaling(resources, service)
    assert target["MinCapacity"] >= 2
    kinds = {p.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
             for p in policies}
    assert "ECSServiceAverageCPUUtilization" in kinds


def _scaling(resources: dict[str, Any], service: str) -> tuple[dict[str, Any], list[dict]]:
    targets = [(name, t["Properties"]) for name, t in
               of_type(resources, "AWS::ApplicationAutoScaling::ScalableTarget").items()
               if f"${{{service}.Name}}" in json.dumps(t["Properties"]["ResourceId"])]
    (target_name, target), = targets
    policies = [p["Properties"]["TargetTrackingScalingPolicyConfiguration"] for p in
                of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
                if p["Properties"]["ScalingTargetId"] == {"Ref": target_name}]
    return target, policies


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
    assert f"${{{group}.TargetGroupFullName}}" in json.dumps(requests["ResourceLabel"])


# ----------------------------------------------------------- finding 10


def test_the_notifier_scales_on_backlog_per_task(resources: dict[str, Any]) -> None:
    """The notifier tracks visible messages of its queue divided by its running tasks."""
    _, policies = _scaling(resources, "NotifierService")
    (custom,) = [p["CustomizedMetricSpecification"] for p in policies
                 if "CustomizedMetricSpecification" in p]
    metrics = {m["Id"]: m for m in custom["Metrics"]}
    visible = metrics["visible"]["MetricStat"]["Metric"]
    assert visible["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert visible["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["NotifierQueue", "QueueName"]}
    assert metrics["tasks"]["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    (returned,) = [m for m in custom["Metrics"] if m["ReturnData"]]
    assert returned["Expression"] == "visible / tasks"


def test_target_groups_check_liveness(resources: dict[str, Any]) -> None:
    """Target groups probe /health, so a shared dependency's outage does not recycle every task."""
    for group in of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        assert group["Properties"]["HealthCheckPath"] == "/health"


def test_every_bucket_is_encrypted_private_versioned_tls_only_and_expires(
        resources: dict[str, Any]) -> None:
    """Buckets use SSE, block public access, keep versions, expire, and refuse plain HTTP."""
    tls_only = set()
    for policy in of_type(resources, "AWS::S3::BucketPolicy").values():
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                    "Bool": {"aws:SecureTransport": "false"}}:
                tls_only |= mentioned(policy["Properties"]["Bucket"])
                tls_only |= {p.split(".")[0] for p in
                             json.dumps(statement["Resource"]).split("${")[1:]}
    for name, bucket in of_type(resources, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        assert all(props["PublicAccessBlockConfiguration"].values()), name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert props["LifecycleConfiguration"]["Rules"], name
        assert name in tls_only, f"{name} has no TLS-only bucket policy"


def test_access_logs_exist_where_the_checkov_skips_once_claimed_them(
        resources: dict[str, Any]) -> None:
    """Both ALBs, CloudFront and WAF write access logs."""
    for balancer in of_type(resources, "AWS::ElasticLoadBalancingV2::LoadBalancer").values():
        attributes = {a["Key"]: a["Value"] for a in
                      balancer["Properties"]["LoadBalancerAttributes"]}
        assert attributes["access_logs.s3.enabled"] == "true"
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Logging"]["Bucket"]
    logging = raw("edge.yaml")["Resources"]["WafLogging"]["Properties"]
    assert {"SingleHeader": {"Name": "authorization"}} in logging["RedactedFields"]


def test_the_gateway_trusts_the_stages_cognito_pool_by_default(resources: dict[str, Any]) -> None:
    """The gateway's issuer, audience and JWKS are the user pool's, not local-only values."""
    env = env_of(resources, "GatewayTaskDefinition")
    assert "cognito-idp" in env["JWT_ISSUER"]["Fn::Sub"][0]
    assert env["JWKS_URL"]["Fn::Sub"][0] == env["JWT_ISSUER"]["Fn::Sub"][0] + \
        "/.well-known/jwks.json"
    assert env["JWT_AUDIENCE"] == {"Ref": "WebClient"}
    groups = {g["Properties"]["GroupName"] for g in
              of_type(resources, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"traveller", "admin"}


def test_the_admin_scope_goes_to_admin_group_members_only(resources: dict[str, Any]) -> None:
    """The pre token generation trigger adds itinera/admin for the admin group, not others."""
    namespace: dict[str, Any] = {}
    exec(resources["AdminScopeTrigger"]["Properties"]["Code"]["ZipFile"], namespace)  # noqa: S102

    def scopes(groups: list[str]) -> dict[str, Any]:
        event = {"request": {"groupConfiguration": {"groupsToOverride": groups}}, "response": {}}
        details = namespace["handler"](event, None)["response"]["claimsAndScopeOverrideDetails"]
        return dict(details["accessTokenGeneration"])

    assert scopes(["admin"])["scopesToAdd"] == ["itinera/traveller", "itinera/admin"]
    assert scopes(["traveller"]) == {"scopesToAdd": ["itinera/traveller"],
                                     "scopesToSuppress": ["itinera/admin"]}
    assert scopes([])["scopesToSuppress"] == ["itinera/admin"]


def test_images_are_pinned_tags_never_latest(sam: dict[str, Any]) -> None:
    """ImageTag has no default and its pattern refuses `latest`."""
    import re

    parameter = sam["Parameters"]["ImageTag"]
    assert "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert not pattern.fullmatch("latest") and pattern.fullmatch("3f2a9c1")


def test_task_sizes_are_only_combinations_fargate_accepts(sam: dict[str, Any]) -> None:
    """One TaskSize parameter picks a CPU and memory pair from Fargate's valid ones."""
    valid = {256: {512, 1024, 2048}, 512: {1024, 2048, 3072, 4096},
             1024: set(range(2048, 8193, 1024)), 2048: set(range(4096, 16385, 1024)),
             4096: set(range(8192, 30721, 1024))}
    sizes = raw("template.yaml")["Mappings"]["TaskSizes"]
    assert set(sam["Parameters"]["TaskSize"]["AllowedValues"]) == set(sizes)
    for size in sizes.values():
        assert int(size["Memory"]) in valid[int(size["Cpu"])], size


def test_one_trail_per_account_only_where_asked(resources: dict[str, Any],
                                                sam: dict[str, Any]) -> None:
    """The trail (multi-region, validated) exists only in the stage deployed to create it."""
    trail = resources["Trail"]
    assert trail["Condition"] == "CreateAccountTrail"
    assert sam["Parameters"]["CreateAccountTrail"]["Default"] == "false"
    assert trail["Properties"]["IsMultiRegionTrail"] is True
    assert trail["Properties"]["EnableLogFileValidation"] is True


def test_every_log_group_has_a_retention(resources: dict[str, Any]) -> None:
    """Each log group expires its events."""
    for group in of_type(resources, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"]


# ------------------------------------------------------------ finding 8


def test_stateful_resources_survive_removal_replacement_and_updates(
        resources: dict[str, Any]) -> None:
    """Everything holding data is kept (Retain or Snapshot) and protected where the service
    allows; stack-policy.json refuses replacing or deleting it; the data stack is Retain."""
    policy = json.loads((SAM_DIR / "stack-policy.json").read_text())
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert set(deny["Action"]) == {"Update:Replace", "Update:Delete"}
    protected = {r.split("/", 1)[1] for r in deny["Resource"]}
    data = raw("data.yaml")["Resources"]
    for name, resource in data.items():
        if resource["Type"] not in STATEFUL:
            continue
        assert resource.get("DeletionPolicy") in {"Retain", "Snapshot"}, name
        assert resource.get("UpdateReplacePolicy") in {"Retain", "Snapshot"}, name
        if resource["Type"] != "AWS::S3::Bucket" or name != "WebBucket":
            assert name in protected, name
    for name in ("BookingsTable", "PaymentsTable"):
        assert resources[name]["Properties"]["DeletionProtectionEnabled"] is True
    assert resources["AuroraCluster"]["Properties"]["DeletionProtection"] is True
    assert resources["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    root = raw("template.yaml")["Resources"]["Data"]
    assert root["DeletionPolicy"] == "Retain" and "Data" in protected
    assert "ImageTag" not in json.dumps(root["Properties"]["Parameters"])


def test_aws_backup_copies_the_data_every_day(resources: dict[str, Any]) -> None:
    """A backup plan selects Aurora and every DynamoDB table."""
    (selection,) = of_type(resources, "AWS::Backup::BackupSelection").values()
    chosen = mentioned(selection["Properties"]["BackupSelection"]["Resources"])
    assert set(of_type(resources, "AWS::DynamoDB::Table")) <= chosen
    assert "AuroraCluster" in json.dumps(selection)


def test_aws_deployment_sends_inventory_calls_to_the_internal_alb(cfn: Template) -> None:
    """With InventoryUrl empty (AWS), the gateway and Lambdas get the internal ALB."""
    env = cfn.resources["CheckoutApiFunction"]["Properties"]["Environment"]["Variables"]
    with pytest.raises(TemplateError, match="InternalAlb"):
        deployed(cfn).resolve(env["INVENTORY_URL"])
    local = deployed(cfn, InventoryUrl="http://127.0.0.1:8081")
    assert local.resolve(env["INVENTORY_URL"]) == "http://127.0.0.1:8081"


def test_the_flattened_template_keeps_the_logical_ids_code_refers_to() -> None:
    """Ids the local stack and tests name survive flattening; reused templates are prefixed."""
    resources = load_sam()["Resources"]
    for name in ("NotifierQueue", "BookingsTable", "CheckoutQueue", "GatewayTargetGroup",
                 "GatewayService", "InventoryTaskDefinition", "NotifierTaskRole",
                 "CheckoutApiFunction", "AuroraCluster"):
        assert name in resources, name


def test_checkout_queue_receives_match_the_worker_retry_budget() -> None:
    """The checkout queue's maxReceiveCount is the one checkout/retry.py sizes its backoff for."""
    from checkout.retry import MAX_RECEIVE_COUNT

    queue = raw("data.yaml")["Resources"]["CheckoutQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVE_COUNT
