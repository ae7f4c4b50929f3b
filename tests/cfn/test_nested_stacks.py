"""Nested stacks (AWS::CloudFormation::Stack) followed as CloudFormation does.

aws-resource-cloudformation-stack.md: ``TemplateURL`` names the child template, ``Parameters`` are
the child's parameter values, ``Ref`` returns the child's stack id and ``Fn::GetAtt Child.Outputs.Name``
the child's output ``Name``. Nested stack names are ``PARENT-LOGICALID-SUFFIX``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accesspath.cfn import (
    CircularReferenceError,
    Symbolic,
    TemplateSource,
    TemplateUrlMapping,
    load_stacks,
    locate_template,
)
from accesspath.environment.from_templates import build_environment
from accesspath.errors import UsageError
from accesspath.policy import Position

from .loading import TEMPLATES

NESTED = TEMPLATES / "nested"
MASTER = NESTED / "master.yaml"


def test_children_are_found_by_url_tail_s3_url_and_local_path() -> None:
    stacks = load_stacks([MASTER])
    by_path = {stack.path: stack for stack in stacks.stacks}
    assert set(by_path) == {"master", "master/Network", "master/Roles", "master/App"}
    assert by_path["master/Network"].source == str(NESTED / "infrastructure" / "network.yaml")
    assert by_path["master/Roles"].source == str(NESTED / "roles.yaml")
    assert by_path["master/App"].source == str(NESTED / "services" / "app.yaml")
    # Children are loaded before the parent finishes: every stack after the ones it reads from.
    assert [s.path for s in stacks.stacks][-1] == "master"
    for path in ("master/Network", "master/Roles", "master/App"):
        child = by_path[path]
        assert child.parent == "master" and child.logical_id == path.split("/")[1]
        # CloudFormation names a nested stack PARENT-LOGICALID-SUFFIX (upper-case letters and digits).
        assert re.fullmatch(rf"master-{child.logical_id}-[A-Z2-7]{{13}}", child.name)


def test_parameters_pass_down_and_outputs_come_back() -> None:
    stacks = load_stacks([MASTER])
    by_path = {stack.path: stack for stack in stacks.stacks}
    network, roles, app = by_path["master/Network"], by_path["master/Roles"], by_path["master/App"]
    assert (network.parameters["EnvironmentName"].value, network.parameters["EnvironmentName"].origin) == (
        "prod", "parent")
    assert roles.parameters["EnvironmentName"].value == "master"  # !Ref AWS::StackName of the parent
    vpc = network.resource("VPC")
    subnets = (network.resource("PrivateSubnet1"), network.resource("PrivateSubnet2"))
    assert vpc is not None and None not in subnets
    # Fn::GetAtt Network.Outputs.PrivateSubnets (a comma-joined string) fills a List<Subnet::Id> parameter.
    assert app.parameters["Subnets"].value == tuple(s.physical_id for s in subnets if s is not None)
    assert app.parameters["VpcId"].value == vpc.physical_id
    role = roles.resource("TaskRole")
    assert role is not None and app.parameters["TaskRoleArn"].value == role.attributes["Arn"]
    assert role.attributes["Arn"] == "arn:aws:iam::123456789012:role/master-task-role"
    master = by_path["master"]
    assert master.outputs["VpcId"].value.value == vpc.physical_id
    network_resource = master.resource("Network")
    assert network_resource is not None and isinstance(network_resource.physical_id, str)
    assert network_resource.physical_id.startswith(
        f"arn:aws:cloudformation:us-east-1:123456789012:stack/{network.name}/")


def test_the_environment_sees_the_children_resources() -> None:
    env = build_environment(load_stacks([MASTER]))
    service = next(s for s in env.services.values() if s.logical_id == "Service")
    assert service.subnet_ids == tuple(env.subnets)
    # No ServiceName: CloudFormation generates STACK-LOGICALID-SUFFIX; the stack is named by its path.
    assert service.name.startswith("master-App-") and service.stack == "master/App"
    task = env.task_definitions["app"]
    assert task.task_role_name == "master-task-role"
    assert "master-task-role" in env.roles
    assert not any(kind == "AWS::CloudFormation::Stack" for _, kind in env.not_modelled)


def test_a_missing_child_is_one_warning_and_its_outputs_are_unresolved() -> None:
    stacks = load_stacks([MASTER])
    master = stacks.stack("master")
    assert master is not None
    missing = [issue for issue in stacks.issues if issue.code == "nested-template-not-found"]
    assert len(missing) == 1
    message = missing[0].message
    assert "https://elsewhere-bucket.s3.us-east-1.amazonaws.com/monitoring/alarms.yaml" in message
    assert "--template-url PREFIX=DIR" in message and "undetermined" in message
    assert missing[0].position == Position(32, 20, str(MASTER))
    topic = master.outputs["AlarmTopic"].value.value
    assert isinstance(topic, Symbolic) and "Monitoring.Outputs.TopicArn" in topic.reason
    # No second warning for the Fn::GetAtt that depends on it.
    assert not [issue for issue in master.issues if issue.code == "unknown-attribute"]


def test_template_url_maps_a_prefix_to_a_folder(tmp_path: Path) -> None:
    (tmp_path / "monitoring").mkdir()
    (tmp_path / "monitoring" / "alarms.yaml").write_text(
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\nOutputs:\n  TopicArn: {Value: !Ref Topic}\n")
    mapping = TemplateUrlMapping.parse(f"https://elsewhere-bucket.s3.us-east-1.amazonaws.com/={tmp_path}")
    stacks = load_stacks([MASTER], template_urls=[mapping])
    assert not [issue for issue in stacks.issues if issue.code == "nested-template-not-found"]
    master = stacks.stack("master")
    assert master is not None
    topic = master.outputs["AlarmTopic"].value.value
    assert isinstance(topic, str) and topic.startswith("arn:aws:sns:us-east-1:123456789012:master-Monitoring-")
    with pytest.raises(UsageError, match="is not a folder"):
        TemplateUrlMapping.parse(f"https://x/={tmp_path / 'nowhere'}")


def test_url_lookup_prefers_the_longest_existing_tail(tmp_path: Path) -> None:
    (tmp_path / "infrastructure").mkdir()
    (tmp_path / "infrastructure" / "vpc.yaml").write_text("Resources: {}\n")
    (tmp_path / "vpc.yaml").write_text("Resources: {}\n")
    found = locate_template("https://s3.amazonaws.com/bucket/infrastructure/vpc.yaml", [tmp_path])
    assert found.path == tmp_path / "infrastructure" / "vpc.yaml"
    found = locate_template("https://bucket.s3.amazonaws.com/other/vpc.yaml", [tmp_path])
    assert found.path == tmp_path / "vpc.yaml"
    assert locate_template("https://bucket.s3.amazonaws.com/a/b.yaml", [tmp_path]).path is None


def test_the_parameter_a_child_does_not_declare_is_an_error_at_the_parent(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("Resources:\n  Q: {Type: AWS::SQS::Queue}\n")
    parent = tmp_path / "parent.yaml"
    parent.write_text("Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                      "      TemplateURL: child.yaml\n      Parameters:\n        Nope: x\n")
    stacks = load_stacks([parent])
    issue = next(i for i in stacks.issues if i.code == "unknown-nested-parameter")
    assert issue.position == Position(7, 15, str(parent))
    assert "'Nope'" in issue.message


def test_a_template_that_nests_itself_is_a_circular_reference(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text("Resources:\n  Again:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                    "      TemplateURL: ./loop.yaml\n")
    with pytest.raises(CircularReferenceError, match="includes itself"):
        load_stacks([loop])


def test_an_unresolved_template_url_says_so(tmp_path: Path) -> None:
    parent = tmp_path / "parent.yaml"
    parent.write_text("Parameters:\n  Bucket: {Type: String}\nResources:\n  Child:\n"
                      "    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                      "      TemplateURL: !Sub https://${Bucket}.s3.amazonaws.com/child.yaml\n")
    stacks = load_stacks([TemplateSource.from_path(parent)])
    issue = next(i for i in stacks.issues if i.code == "nested-template-not-found")
    assert "TemplateURL is unresolved" in issue.message and "--template-url" in issue.message


def test_qualified_parameters_reach_one_nested_stack() -> None:
    stacks = load_stacks([MASTER], stack_parameters={"master/Network": {"VpcCidr": "10.99.0.0/16"}})
    network = next(s for s in stacks.stacks if s.path == "master/Network")
    assert network.parameters["VpcCidr"].value == "10.99.0.0/16"
    with pytest.raises(UsageError, match="there is no stack 'nowhere'"):
        load_stacks([MASTER], stack_parameters={"nowhere": {"X": "1"}})
    with pytest.raises(UsageError, match="stack 'master' has no parameter named 'VpcCidr'"):
        load_stacks([MASTER], stack_parameters={"master": {"VpcCidr": "10.99.0.0/16"}})
