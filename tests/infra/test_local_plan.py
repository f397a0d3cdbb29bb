"""The local stack has a deliberate plan for every resource type the template deploys."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from itinera.localstack.functions import functions
from itinera.localstack.resources import Deployed
from itinera.localstack.template import (
    APPLIED_THROUGH_API,
    CREATED_BY_STACK,
    EMULATED_LOCALLY,
    NOT_EMULATED,
    Template,
    stack_body,
    transform,
)
from itinera.settings import SettingsError
from tests.infra.conftest import REGION, ROOT

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


def test_conditional_resources_are_never_emulated(cfn: Template) -> None:
    """Only not-emulated resources carry a Condition, since the local stack ignores conditions."""
    conditional = {r["Type"] for r in cfn.resources.values() if "Condition" in r}
    assert conditional and conditional <= set(NOT_EMULATED)


def test_local_functions_resolve_with_the_local_parameters(sam: dict[str, Any]) -> None:
    """With the local stack's overrides the Lambdas reach the local inventory and no secret ARN."""
    template = transform(sam, region=REGION,
                         parameters={"InventoryUrl": "http://127.0.0.1:8081", "Stage": "e2e"})
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
    """An environment that answers "1" to every variable and remembers which were read."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return "1"

    def get(self, key: str, default: Any = None) -> Any:
        """Record *key* and answer "1"."""
        self.read.add(key)
        return "1"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _read_by(module: str) -> set[str]:
    settings = __import__(module, fromlist=["Settings"]).Settings
    recorder = Recorder()
    # "1" everywhere can break a cross-field check; the names are read before it.
    with contextlib.suppress(SettingsError):
        settings.from_env(recorder)
    return recorder.read


# The gateway reads JWKS_PATH today; on AWS it gets JWKS_URL, which its engineer is adding.
AWS_ONLY = {"gateway": {"JWKS_URL"}}
MUST_SET = {
    "gateway": {"INVENTORY_URL", "CHECKOUT_API_URL", "INTERNAL_TOKEN", "JWT_ISSUER",
                "JWT_AUDIENCE", "JWKS_URL", "PORT", "HOST"},
    "inventory": {"DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "REDIS_URL",
                  "GATEWAY_SERVICE_TOKEN", "CHECKOUT_SERVICE_TOKEN", "PORT", "HOST"},
    "notifier": {"NOTIFIER_QUEUE_URL", "NOTIFICATIONS_TABLE", "ITINERARIES_BUCKET",
                 "SES_SENDER", "PORT", "HOST"},
}


@pytest.mark.parametrize("service", ["gateway", "inventory", "notifier"])
def test_task_variables_are_the_ones_settings_read(resources: dict[str, Any],
                                                   service: str) -> None:
    """Each task sets exactly names its service's settings.py reads, secrets included."""
    task = resources[f"{service.capitalize()}TaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    names = {v["Name"] for v in container["Environment"]} | {
        s["Name"] for s in container.get("Secrets", [])}
    assert names - _read_by(f"{service}.settings") - AWS_ONLY.get(service, set()) == set()
    assert MUST_SET[service] - names == set()
    secret = {"INTERNAL_TOKEN", "GATEWAY_SERVICE_TOKEN", "CHECKOUT_SERVICE_TOKEN", "DB_PASSWORD"}
    assert not secret & {v["Name"] for v in container["Environment"]}


def test_function_variables_are_the_ones_checkout_reads(resources: dict[str, Any]) -> None:
    """The Lambdas' variables are names checkout's code reads (plus Powertools' own)."""
    read = _read_by("checkout.settings")
    # Handlers with their own knobs (e.g. the reconciler) name them as constants in checkout/.
    source = "\n".join(p.read_text() for p in (ROOT / "checkout").glob("*.py"))
    for function in (r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"):
        names = set(function["Properties"]["Environment"]["Variables"])
        unread = {n for n in names - read if not n.startswith("POWERTOOLS_")
                  and f'"{n}"' not in source}
        assert unread == set()
