"""The IAM policy language: parsing, validation and the immutable policy model."""

from accesspath.policy.model import (
    ActionBlock,
    ConditionClause,
    Effect,
    Policy,
    PolicyIssue,
    PolicyType,
    PrincipalBlock,
    PrincipalEntry,
    ResourceBlock,
    Severity,
    Statement,
)
from accesspath.policy.parse import parse_policy
from accesspath.policy.source import (
    JsonSyntaxError,
    Member,
    Node,
    Position,
    decode_json,
    node_from_python,
)

__all__ = [
    "ActionBlock", "ConditionClause", "Effect", "JsonSyntaxError", "Member", "Node", "Policy",
    "PolicyIssue", "PolicyType", "Position", "PrincipalBlock", "PrincipalEntry", "ResourceBlock",
    "Severity", "Statement", "decode_json", "node_from_python", "parse_policy",
]
