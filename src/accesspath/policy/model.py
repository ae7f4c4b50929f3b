"""Parsed IAM policies: immutable objects that remember where they came from.

The grammar is the IAM User Guide's (reference_policies_grammar.md); each element keeps its
source position so every finding and every explanation can point at file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from accesspath.policy.patterns import Pattern
from accesspath.policy.source import Node, Position


class PolicyType(str, Enum):
    """Where a policy is attached; decides which elements it must and must not have."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    PERMISSIONS_BOUNDARY = "permissions-boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"
    VPC_ENDPOINT = "vpc-endpoint"
    ROLE_TRUST = "role-trust"
    KMS_KEY = "kms-key"

    @property
    def label(self) -> str:
        """The name AWS's access denied messages use (troubleshoot_access-denied.md)."""
        return _LABELS[self]

    @property
    def takes_principal(self) -> bool:
        return self in (PolicyType.RESOURCE, PolicyType.ROLE_TRUST, PolicyType.KMS_KEY,
                        PolicyType.RCP, PolicyType.VPC_ENDPOINT)

    @property
    def requires_principal(self) -> bool:
        # VPC endpoint policies may leave Principal out: the statement then applies to everyone.
        return self in (PolicyType.RESOURCE, PolicyType.ROLE_TRUST, PolicyType.KMS_KEY, PolicyType.RCP)


_LABELS = {
    PolicyType.IDENTITY: "identity-based policy",
    PolicyType.RESOURCE: "resource-based policy",
    PolicyType.PERMISSIONS_BOUNDARY: "permissions boundary",
    PolicyType.SESSION: "session policy",
    PolicyType.SCP: "service control policy",
    PolicyType.RCP: "resource control policy",
    PolicyType.VPC_ENDPOINT: "VPC endpoint policy",
    PolicyType.ROLE_TRUST: "role trust policy",
    PolicyType.KMS_KEY: "KMS key policy",
}


class Effect(str, Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class Severity(str, Enum):
    ERROR = "error"      # AWS would reject the policy (MalformedPolicyDocument)
    WARNING = "warning"  # AWS accepts it, but it probably does not mean what was written


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """A problem found while parsing; errors make the policy unusable for allows."""

    code: str
    message: str
    severity: Severity
    position: Position | None
    element: str

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        return f"{where}{self.severity.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class PrincipalEntry:
    """One value of a Principal/NotPrincipal block: kind is AWS, Service, Federated, CanonicalUser or *."""

    kind: str
    value: str
    position: Position | None


@dataclass(frozen=True, slots=True)
class PrincipalBlock:
    entries: tuple[PrincipalEntry, ...]
    negated: bool
    position: Position | None


@dataclass(frozen=True, slots=True)
class _PatternBlock:
    """Action/NotAction or Resource/NotResource: compiled patterns, negated for the Not- form."""

    patterns: tuple[Pattern, ...]
    negated: bool
    position: Position | None

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.patterns)


@dataclass(frozen=True, slots=True)
class ActionBlock(_PatternBlock):
    """Action or NotAction (patterns match case-insensitively)."""


@dataclass(frozen=True, slots=True)
class ResourceBlock(_PatternBlock):
    """Resource or NotResource (patterns match case-sensitively, segment-aware for ARNs)."""


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One key under one operator, e.g. ``"StringEquals": {"aws:SourceAccount": ["1", "2"]}``."""

    operator: str          # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str              # e.g. "StringLike"
    set_operator: str | None  # "ForAllValues", "ForAnyValue" or None
    if_exists: bool
    key: str               # as written
    values: tuple[str, ...]  # as written, JSON scalars turned to strings the way IAM reads them
    patterns: tuple[Pattern, ...]  # compiled for String*/Arn*/Bool operators; empty otherwise
    parsed: tuple[object, ...]     # numbers, datetimes, networks, bytes for other operators
    position: Position | None

    @property
    def key_lower(self) -> str:
        return self.key.lower()


@dataclass(frozen=True, slots=True)
class Statement:
    index: int             # 0-based position in the policy
    sid: str | None
    effect: Effect
    principal: PrincipalBlock | None
    action: ActionBlock
    resource: ResourceBlock | None  # None only where the policy type needs no Resource
    conditions: tuple[ConditionClause, ...]
    start: Position | None
    end: Position | None
    valid: bool            # False when the statement itself has errors

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"Statement[{self.index}]"


@dataclass(frozen=True, slots=True)
class Policy:
    policy_id: str         # a name for messages: file name, "PolicyInputList.1", a template path
    policy_type: PolicyType
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    issues: tuple[PolicyIssue, ...]
    source: str | None
    document: Node | None = None   # the decoded document, for export and re-reading
    attachment: str | None = None  # what it is attached to, for AWS's size limit (policy/limits.py)

    @property
    def errors(self) -> tuple[PolicyIssue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def is_valid(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)

    @property
    def supports_variables(self) -> bool:
        return self.version == "2012-10-17"
