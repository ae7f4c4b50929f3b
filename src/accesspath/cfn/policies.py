"""Find the policy documents inside loaded resources, as positioned :class:`Node` trees.

Each document is handed out with the policy kind (a :class:`accesspath.policy.PolicyType`
value) it is evaluated as, so ``parse_policy(location.node, policy_type=PolicyType(location.kind),
source=...)`` reports findings at file:line:col in the template.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from accesspath.cfn.model import Resource, StackSet
from accesspath.cfn.policy_strings import POLICY_PROPERTIES
from accesspath.policy.model import PolicyType
from accesspath.policy.source import JsonSyntaxError, Node, decode_json

__all__ = ["POLICY_ATTACHMENTS", "POLICY_PROPERTIES", "PolicyLocation", "policy_nodes"]

_IDENTITY, _RESOURCE = PolicyType.IDENTITY.value, PolicyType.RESOURCE.value

# (resource type, kind) -> the attachment whose AWS size limit applies (accesspath.policy.limits).
# AWS::IAM::Policy is an inline policy of users, groups or roles: the largest limit (a role's) holds.
POLICY_ATTACHMENTS: dict[tuple[str, str], str] = {
    ("AWS::IAM::Role", PolicyType.ROLE_TRUST.value): "iam-role-trust",
    ("AWS::IAM::Role", _IDENTITY): "iam-role-inline",
    ("AWS::IAM::RolePolicy", _IDENTITY): "iam-role-inline",
    ("AWS::IAM::User", _IDENTITY): "iam-user-inline",
    ("AWS::IAM::Group", _IDENTITY): "iam-group-inline",
    ("AWS::IAM::Policy", _IDENTITY): "iam-role-inline",
    ("AWS::IAM::ManagedPolicy", _IDENTITY): "iam-managed",
    ("AWS::S3::BucketPolicy", _RESOURCE): "s3-bucket",
    ("AWS::SQS::QueuePolicy", _RESOURCE): "sqs-queue",
    ("AWS::SNS::TopicPolicy", _RESOURCE): "sns-topic",
    ("AWS::KMS::Key", PolicyType.KMS_KEY.value): "kms-key",
    ("AWS::SecretsManager::ResourcePolicy", _RESOURCE): "secretsmanager-secret",
    ("AWS::ECR::Repository", _RESOURCE): "ecr-repository",
    ("AWS::EC2::VPCEndpoint", PolicyType.VPC_ENDPOINT.value): "vpc-endpoint",
}


def attachment_of(resource_type: str, kind: str) -> str | None:
    """The size-limit attachment of a policy of ``kind`` held by a resource of ``resource_type``."""
    return POLICY_ATTACHMENTS.get((resource_type, kind))


class PolicyLocation(NamedTuple):
    resource: Resource
    path: str  # e.g. "Properties.Policies[0].PolicyDocument"
    node: Node
    kind: str  # a PolicyType value

    @property
    def attachment(self) -> str | None:
        return attachment_of(self.resource.type, self.kind)


def policy_nodes(stacks: StackSet) -> Iterator[PolicyLocation]:
    """Every policy document of every created resource, in stack and template order."""
    for resource in stacks.resources():
        for prop, kind in POLICY_PROPERTIES.get(resource.type, ()):
            yield from _documents(resource, prop, kind)


def _documents(resource: Resource, prop: str, kind: str) -> Iterator[PolicyLocation]:
    if prop.startswith("Policies[]."):
        inner = prop.removeprefix("Policies[].")
        policies = resource.property("Policies")
        if policies is None or not policies.is_array:
            return
        for index, item in enumerate(policies.value):
            document = _member_of(item, inner)
            if document is not None:
                yield PolicyLocation(resource, f"Properties.Policies[{index}].{inner}", _as_document(document), kind)
        return
    document = resource.property(prop)
    if document is not None:
        yield PolicyLocation(resource, f"Properties.{prop}", _as_document(document), kind)


def _as_document(node: Node) -> Node:
    """CloudFormation also takes a policy as a JSON string; decode it, placing it at the string."""
    if isinstance(node.value, str) and not node.is_object and node.value.lstrip().startswith("{"):
        start = node.start
        try:
            return decode_json(node.value, start.source if start else None,
                               line_offset=(start.line - 1) if start else 0,
                               column_offset=(start.column - 1) if start else 0)
        except JsonSyntaxError:
            return node  # parse_policy reports "a policy must be a JSON object" at the string
    return node


def _member_of(node: Node | None, key: str) -> Node | None:
    return node.member(key) if node is not None else None
