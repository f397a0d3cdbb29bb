"""The local stack has a deliberate plan for every resource type the template deploys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from localaws.functions import functions
from localaws.resources import Deployed
from localaws.template import (
    APPLIED_THROUGH_API,
    CREATED_BY_STACK,
    EMULATED_LOCALLY,
    NOT_EMULATED,
    Template,
    stack_body,
    transform,
)
from tests.infra.conftest import REGION, ROOT, service_container

PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName",
          "AWS::URLSuffix", "AWS::NoValue"}


def test_the_four_plans_do_not_overlap_and_each_gives_a_reason() -> None:
    """A type is created, applied, emulated or not emulated, never two; each exception says why."""
    groups = [set(CREATED_BY_STACK), set(APPLIED_THROUGH_API), set(EMULATED_LOCALLY),
              set(NOT_EMULATED)]
    assert sum(len(g) for g in groups) == len(set().union(*groups))
    assert all(len(reason) >= 10 for reason in {**EMULATED_LOCALLY, **NOT_EMULATED}.values())


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _names(item)
    elif isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        if isinstance(value.get("Fn::Sub"), str):
            for token in value["Fn::Sub"].split("${")[1:]:
                yield token.split("}")[0].split(".")[0]
        for item in value.values():
            yield from _names(item)


def test_moto_gets_only_resources_it_can_create_and_their_references(cfn: Template) -> None:
    """The stack body sent to moto refers only to its own resources, parameters and pseudo ones."""
    body = stack_body(cfn)
    assert {r["Type"] for r in body["Resources"].values()} <= CREATED_BY_STACK
    known = set(body["Resources"]) | set(body["Parameters"]) | PSEUDO
    assert set(_names(body["Resources"])) - known == set()


def test_conditional_resources_are_created_only_when_their_condition_holds(
        cfn: Template) -> None:
    """A conditional resource moto could create is left out when its condition is false
    (the trail's bucket without CreateAccountTrail), and emulated types carry no condition."""
    conditional = {n: r for n, r in cfn.resources.items() if "Condition" in r}
    assert conditional
    assert {r["Type"] for r in conditional.values()} <= set(NOT_EMULATED) | CREATED_BY_STACK | {
        "AWS::IAM::Role"}
    assert "TrailBucket" not in stack_body(cfn)["Resources"]
    with_trail = Template(resources=cfn.resources, conditions=cfn.conditions,
                          parameters={**cfn.parameters, "CreateAccountTrail": "true"})
    assert "TrailBucket" in stack_body(with_trail)["Resources"]


def test_local_functions_resolve_with_the_local_parameters(sam: dict[str, Any]) -> None:
    """With the local stack's overrides the Lambdas reach the local inventory and no secret ARN."""
    template = transform(sam, region=REGION,
                         parameters={"InventoryUrl": "http://127.0.0.1:8081",
                                     "RedisUrl": "redis://127.0.0.1:6379/0", "Stage": "e2e"})
    physical = {name: f"itinera-e2e-{name.lower()}" for name in template.of_type(
        "AWS::DynamoDB::Table", "AWS::S3::Bucket")}
    for name in template.of_type("AWS::SQS::Queue"):
        physical[name] = f"https://sqs.{REGION}.amazonaws.com/123456789012/{name}"
    for name in template.of_type("AWS::SNS::Topic"):
        physical[name] = f"arn:aws:sns:{REGION}:123456789012:{name}"
    specs = functions(Deployed(template=template, region=REGION, stack_name="itinera-e2e",
                               physical=physical))
    for spec in specs.values():
        assert spec.environment["INVENTORY_URL"] == "http://127.0.0.1:8081"
        assert spec.environment["INTERNAL_TOKEN_SECRET_ARN"] == ""


class Recorder(Mapping[str, str]):
    """An environment that remembers which variables the code read."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Record *key* and answer its value."""
        self.read.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


# What CloudFormation gives for the attributes the tasks and functions use, in the shape AWS
# gives them, so the settings parse values like the ones a deployment hands over.
SAMPLE_ATTRIBUTES = {
    "Endpoint.Address": "itinera-dev.cluster-c1a2b3.eu-west-1.rds.amazonaws.com",
    "Endpoint.Port": "3306",
    "PrimaryEndPoint.Address": "master.itinera-dev.x1y2z3.euw1.cache.amazonaws.com",
    "PrimaryEndPoint.Port": "6379",
    "DNSName": "internal-itinera-dev-123456.eu-west-1.elb.amazonaws.com",
    "QueueName": "itinera-dev-queue",
}


class OnAws(Deployed):
    """A deployment on AWS seen from the template: samples for what only AWS knows."""

    def ref(self, name: str) -> str:
        """Return a parameter's value or a resource's physical id as AWS would shape it."""
        if name in self.template.parameters or name.startswith("AWS::"):
            return super().ref(name)
        kind = self.template.resources[name]["Type"]
        return {
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/123456789012/{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:123456789012:{name}",
            "AWS::SecretsManager::Secret":
                f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf",
            "AWS::ApiGateway::RestApi": "a1b2c3d4e5",
            "AWS::Cognito::UserPool": f"{REGION}_AbCdEfGhI",
            "AWS::Cognito::UserPoolClient": "3q4w5e6r7t8y9u0i1o2p3a4s5d",
        }.get(kind, f"itinera-dev-{name.lower()}")

    def get_att(self, name: str, attribute: str) -> str:
        """Return a sample of the attribute in AWS's shape."""
        return SAMPLE_ATTRIBUTES.get(attribute, f"{name}-{attribute}")


@pytest.fixture(scope="module")
def on_aws(cfn: Template) -> OnAws:
    """The AWS deployment (template defaults; InventoryUrl empty: the internal ALB)."""
    return OnAws(template=cfn, region=REGION, stack_name="itinera-dev", physical={})


def _task_environment(on_aws: OnAws, task: str) -> tuple[dict[str, str], set[str]]:
    container = service_container(on_aws.template.resources, task)
    env = {v["Name"]: str(on_aws.resolve(v["Value"])) for v in container["Environment"]}
    secrets = {s["Name"] for s in container.get("Secrets", [])}
    # ECS injects each secret's value; the values are generated strings.
    env.update({name: f"generated-{name.lower()}" for name in secrets})
    return env, secrets


SERVICES = {"gateway": "GatewayTaskDefinition", "inventory": "InventoryTaskDefinition",
            "notifier": "NotifierTaskDefinition"}
SECRETS = {"INTERNAL_TOKEN", "GATEWAY_SERVICE_TOKEN", "CHECKOUT_SERVICE_TOKEN", "DB_PASSWORD"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_accepts_what_its_task_definition_sets(on_aws: OnAws,
                                                            service: str) -> None:
    """GIVEN the environment and secrets the template gives a service's task on AWS, WHEN
    the service reads its settings as it does at start, THEN they parse, every variable set
    is one the code reads, and no secret travels as plain environment."""
    env, secrets = _task_environment(on_aws, SERVICES[service])
    recorder = Recorder(env)
    settings = __import__(f"{service}.settings", fromlist=["Settings"]).Settings
    settings.from_env(recorder)
    assert set(env) - recorder.read == set()
    assert not SECRETS & (set(env) - secrets)


def test_inventory_builds_its_clients_from_the_aws_values(on_aws: OnAws) -> None:
    """Inventory's Redis client speaks TLS to ElastiCache's rediss:// URL, and its database
    login is an IAM token over TLS with the CA bundle the image ships."""
    from inventory.cache import new_redis_cache
    from inventory.settings import Settings

    env, _ = _task_environment(on_aws, SERVICES["inventory"])
    settings = Settings.from_env(env)
    pool = new_redis_cache(settings.redis_url).client.connection_pool
    assert pool.connection_class.__name__ == "SSLConnection"
    assert settings.db.auth == "iam" and settings.db.ssl_ca == "/etc/ssl/rds/global-bundle.pem"


def test_the_gateway_reaches_redis_over_tls_and_trusts_cognito(on_aws: OnAws) -> None:
    """The gateway's rate limiter gets a rediss:// URL (redis-py turns TLS on from it), and
    its issuer, audience and JWKS are the user pool's."""
    import redis.asyncio as aioredis

    from gateway.settings import Settings

    env, _ = _task_environment(on_aws, SERVICES["gateway"])
    settings = Settings.from_env(env)
    client = aioredis.Redis.from_url(settings.redis_url)
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    assert settings.jwt_issuer.startswith("https://cognito-idp.eu-west-1.amazonaws.com/")
    assert settings.jwks_url == settings.jwt_issuer + "/.well-known/jwks.json"
    assert settings.checkout_api_url.endswith(".execute-api.eu-west-1.amazonaws.com/live")


def test_the_migration_task_reads_the_master_secret_and_creates_the_app_user(
        on_aws: OnAws) -> None:
    """The one-off migration parses its settings and names the user inventory logs in as."""
    from inventory.migrate import DB_APP_USER
    from inventory.settings import DatabaseSettings

    env, secrets = _task_environment(on_aws, "MigrationTaskDefinition")
    assert secrets == {"DB_USER", "DB_PASSWORD"}
    db = DatabaseSettings.from_env(env)
    assert db.auth == "password" and db.ssl_ca
    inventory, _ = _task_environment(on_aws, SERVICES["inventory"])
    assert env[DB_APP_USER] == inventory["DB_USER"]


@pytest.mark.parametrize("function", ["CheckoutApiFunction", "CheckoutWorkerFunction",
                                      "CheckoutReconcilerFunction"])
def test_each_function_accepts_what_the_template_sets(on_aws: OnAws, function: str) -> None:
    """Each checkout function's settings parse from its AWS environment; every variable is
    read by checkout's code (settings, or a handler's own constant) or is Powertools'."""
    from checkout.settings import Settings

    variables = on_aws.template.resources[function]["Properties"]["Environment"]["Variables"]
    env = {k: str(on_aws.resolve(v)) for k, v in variables.items()}
    recorder = Recorder(env)
    settings = Settings.from_env(recorder)
    assert settings.internal_token_secret_arn.startswith("arn:aws:secretsmanager:")
    assert settings.inventory_url.startswith("http://internal-")
    source = "\n".join(p.read_text() for p in (ROOT / "checkout").glob("*.py"))
    # The Lambda runtime reads AWS_LAMBDA_EXEC_WRAPPER and FIS's extension its AWS_FIS_*.
    unread = {n for n in set(env) - recorder.read
              if not n.startswith(("POWERTOOLS_", "AWS_FIS_")) and n != "AWS_LAMBDA_EXEC_WRAPPER"
              and f'"{n}"' not in source}
    assert unread == set()
