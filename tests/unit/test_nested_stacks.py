"""Nested stacks are flattened into one template the local stack can plan."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from localaws.nested import FlattenError
from localaws.template import TemplateError, load_sam

CHILD = {
    "Parameters": {"Name": {"Type": "String"}, "Port": {"Type": "String", "Default": ""}},
    "Conditions": {"HasPort": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Port"}, ""]}]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue",
                  "Properties": {"QueueName": {"Fn::Sub": "q-${Name}"},
                                 "Tags": [{"Fn::If": ["HasPort", {"Key": "port", "Value":
                                                                  {"Ref": "Port"}},
                                                      {"Ref": "AWS::NoValue"}]}]}}},
    "Outputs": {"Url": {"Value": {"Ref": "Queue"}}},
}


def write(folder: Path, name: str, body: dict[str, object]) -> Path:
    """Write one template file as JSON-compatible YAML."""
    path = folder / name
    path.write_text(yaml.safe_dump(body))
    return path


def test_children_merge_with_parameters_substituted_and_outputs_wired(tmp_path: Path) -> None:
    """A child used twice is prefixed by its nested stack's id, its parameters take the
    values passed, conditions of literals are decided, and `GetAtt Child.Outputs.X` becomes
    the child's output expression, in Sub strings too."""
    write(tmp_path, "child.yaml", CHILD)
    write(tmp_path, "once.yaml", {"Parameters": {"Url": {"Type": "String"}}, "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic",
                  "Properties": {"DisplayName": {"Ref": "Url"}}}}})
    root = write(tmp_path, "root.yaml", {"Resources": {
        "Gateway": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "child.yaml", "Parameters": {"Name": "g", "Port": "8080"}}},
        "Inventory": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "child.yaml", "Parameters": {"Name": "i"}}},
        "Solo": {"Type": "AWS::Serverless::Application", "Properties": {
            "Location": "once.yaml",
            "Parameters": {"Url": {"Fn::Sub": "x-${Gateway.Outputs.Url}"}}}}}})
    resources = load_sam(root)["Resources"]
    assert set(resources) == {"GatewayQueue", "InventoryQueue", "Topic"}
    assert resources["GatewayQueue"]["Properties"] == {
        "QueueName": {"Fn::Sub": "q-g"}, "Tags": [{"Key": "port", "Value": "8080"}]}
    assert resources["InventoryQueue"]["Properties"]["Tags"] == []
    assert resources["Topic"]["Properties"]["DisplayName"] == {
        "Fn::Sub": ["x-${OGatewayOutputsUrl}", {"OGatewayOutputsUrl": {"Ref": "GatewayQueue"}}]}


def test_two_resources_with_one_id_are_refused(tmp_path: Path) -> None:
    """A child used once keeps its ids, so a clash with the parent's is an error, not a loss."""
    write(tmp_path, "child.yaml", CHILD)
    root = write(tmp_path, "root.yaml", {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Only": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "child.yaml", "Parameters": {"Name": "n"}}}}})
    with pytest.raises(TemplateError, match="Queue"):
        load_sam(root)


def test_a_parameter_the_child_does_not_declare_is_refused(tmp_path: Path) -> None:
    """Passing a parameter the child lacks is a mistake CloudFormation refuses too."""
    write(tmp_path, "child.yaml", CHILD)
    root = write(tmp_path, "root.yaml", {"Resources": {"Only": {
        "Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "child.yaml", "Parameters": {"Name": "n", "Nope": "x"}}}}})
    with pytest.raises(TemplateError, match="Nope"):
        load_sam(root)
    assert issubclass(FlattenError, ValueError)
