"""AWS's size limits for policy documents, as data.

AWS refuses to store a policy over its limit, so a policy over it is not a policy AWS would ever
evaluate: the parser reports it as an error (the policy then never allows; its valid Deny
statements still deny, as for every invalid policy) and ``validate`` shows it.

How AWS counts differs by service, and each row says how:
- IAM (inline, managed, trust): "IAM doesn't count white space when calculating the size of a
  policy against these limits" (reference_iam-quotas.md), so white space is not counted at all.
- The others count the document as stored. Whitespace between JSON tokens depends on how the
  policy was sent (the CLI sends a file as written, CloudFormation re-serialises the template's
  object), so it is never counted here: a policy is measured as compact JSON, the least any
  client could send, and only what is over the limit even then is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from accesspath.policy.model import PolicyType
from accesspath.policy.source import Node

CHARACTERS = "characters"
BYTES = "bytes"

_IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
_ORGANIZATIONS_QUOTAS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html"


@dataclass(frozen=True, slots=True)
class SizeLimit:
    """The largest policy AWS stores for one kind of attachment."""

    attachment: str       # the key callers pass, e.g. "iam-role-inline", "s3-bucket"
    label: str            # for messages: "inline role policy"
    maximum: int          # AWS refuses anything larger
    unit: str             # CHARACTERS or BYTES (UTF-8)
    counts_whitespace: bool
    page: str             # the AWS page the limit is taken from
    default_quota: int | None = None  # for an adjustable quota: the value an account starts with


SIZE_LIMITS: tuple[SizeLimit, ...] = (
    # The inline limits are per entity, for the sum of its inline policies; one policy over the
    # limit is certainly refused.
    SizeLimit("iam-user-inline", "inline user policy", 2_048, CHARACTERS, False, _IAM_QUOTAS),
    SizeLimit("iam-group-inline", "inline group policy", 5_120, CHARACTERS, False, _IAM_QUOTAS),
    SizeLimit("iam-role-inline", "inline role policy", 10_240, CHARACTERS, False, _IAM_QUOTAS),
    SizeLimit("iam-managed", "managed policy", 6_144, CHARACTERS, False, _IAM_QUOTAS),
    # "Role trust policy length": 2,048 characters by default, up to 4,096 on request.
    SizeLimit("iam-role-trust", "role trust policy", 4_096, CHARACTERS, False, _IAM_QUOTAS, default_quota=2_048),
    # "The size of the passed JSON policy document and all passed managed policy ARN characters
    # combined can't exceed 2,048 characters" (reference_iam-quotas.md, role session policies).
    SizeLimit("sts-session", "session policy", 2_048, CHARACTERS, True, _IAM_QUOTAS),
    SizeLimit("organizations-scp", "service control policy", 5_120, CHARACTERS, True, _ORGANIZATIONS_QUOTAS),
    SizeLimit("organizations-rcp", "resource control policy", 5_120, CHARACTERS, True, _ORGANIZATIONS_QUOTAS),
    SizeLimit("vpc-endpoint", "VPC endpoint policy", 20_480, CHARACTERS, True,
              "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"),
    SizeLimit("s3-bucket", "S3 bucket policy", 20 * 1024, BYTES, True,
              "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html"),
    SizeLimit("kms-key", "KMS key policy", 32_768, BYTES, True,
              "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html"),
    SizeLimit("sqs-queue", "SQS queue policy", 8_192, BYTES, True,
              "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html"),
    SizeLimit("sns-topic", "SNS topic policy", 30 * 1024, BYTES, True,
              "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html"),
    SizeLimit("secretsmanager-secret", "Secrets Manager resource policy", 20_480, CHARACTERS, True,
              "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"),
    SizeLimit("ecr-repository", "ECR repository policy", 10_240, CHARACTERS, True,
              "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SetRepositoryPolicy.html"),
)

_BY_ATTACHMENT = {limit.attachment: limit for limit in SIZE_LIMITS}

# AWS managed policies are written by AWS and not held to the quotas of customer policies
# (several bundled ones are over 20,000 characters): no limit applies to them.
AWS_MANAGED = "aws-managed"
ATTACHMENTS: frozenset[str] = frozenset(_BY_ATTACHMENT) | {AWS_MANAGED}

# Without a more precise attachment, a policy type is held to the largest limit among the
# attachments it may stand for, so nothing AWS could store is reported.
_DEFAULT_FOR_TYPE = {
    PolicyType.IDENTITY: "iam-role-inline",
    PolicyType.PERMISSIONS_BOUNDARY: "iam-managed",  # a boundary is a managed policy
    PolicyType.SESSION: "sts-session",
    PolicyType.SCP: "organizations-scp",
    PolicyType.RCP: "organizations-rcp",
    PolicyType.VPC_ENDPOINT: "vpc-endpoint",
    PolicyType.ROLE_TRUST: "iam-role-trust",
    PolicyType.KMS_KEY: "kms-key",
}

# A resource-based policy's limit follows its service (the resource ARN's service prefix).
_RESOURCE_BY_SERVICE = {
    "s3": "s3-bucket",
    "sqs": "sqs-queue",
    "sns": "sns-topic",
    "secretsmanager": "secretsmanager-secret",
    "ecr": "ecr-repository",
    "kms": "kms-key",
}


def size_limit(attachment: str) -> SizeLimit:
    """The row of ``attachment`` (a key of :data:`SIZE_LIMITS`)."""
    return _BY_ATTACHMENT[attachment]


def limit_for(policy_type: PolicyType, attachment: str | None = None) -> SizeLimit | None:
    """The limit a policy is held to: its attachment's when known, else its type's.

    A resource-based policy of an unknown service has no limit here (None): limits vary by
    service and none is invented.
    """
    if attachment == AWS_MANAGED:
        return None
    if attachment is not None:
        return _BY_ATTACHMENT[attachment]
    name = _DEFAULT_FOR_TYPE.get(policy_type)
    return _BY_ATTACHMENT[name] if name else None


def resource_attachment(resource_arn: str) -> str | None:
    """The attachment of the resource-based policy of ``resource_arn``'s service, if listed."""
    parts = resource_arn.split(":", 3)
    return _RESOURCE_BY_SERVICE.get(parts[2]) if len(parts) > 2 else None


def measure(document: Node | Any, limit: SizeLimit) -> int:
    """The size of ``document`` as AWS counts it for ``limit`` (see the module's note)."""
    value = document.to_python() if isinstance(document, Node) else document
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    if not limit.counts_whitespace:
        text = "".join(text.split())
    if limit.unit == BYTES:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text)


# The compact form of a JSON float can be longer than it was written ("1E15" is 1000000000000000.0),
# never by more than this.
_FLOAT_GROWTH = 24


def surely_within(text: str, floats: int, limit: SizeLimit) -> bool:
    """Whether a document decoded from ``text`` (with ``floats`` float numbers) is certainly within
    ``limit`` and its default quota, without measuring it: its compact form is never longer than
    the text (escapes only shrink, duplicate keys are dropped) except for floats."""
    if limit.counts_whitespace:
        size = len(text) if limit.unit != BYTES else len(text.encode("utf-8", "surrogatepass"))
    else:
        compact = "".join(text.split())
        size = len(compact) if limit.unit != BYTES else len(compact.encode("utf-8", "surrogatepass"))
    bound = size + floats * _FLOAT_GROWTH
    return bound <= limit.maximum and (limit.default_quota is None or bound <= limit.default_quota)


def size_problem(document: Node | Any, limit: SizeLimit) -> tuple[str, bool] | None:
    """``(message, refused)`` when the document is over the limit (``refused``) or over an
    adjustable quota's default (not refused: AWS stores it once the quota is raised); else None."""
    size = measure(document, limit)
    how = "" if limit.counts_whitespace else " not counting white space"
    if size > limit.maximum:
        return (f"the policy is {size:,} {limit.unit}{how}, over AWS's limit of {limit.maximum:,} for"
                f" {_article(limit.label)} {limit.label}: AWS would refuse to store it ({limit.page})", True)
    if limit.default_quota is not None and size > limit.default_quota:
        return (f"the policy is {size:,} {limit.unit}{how}, over the default quota of"
                f" {limit.default_quota:,} for {_article(limit.label)} {limit.label}: AWS refuses it unless"
                " the account's quota was raised"
                f" (up to {limit.maximum:,}; {limit.page})", False)
    return None


def _article(label: str) -> str:
    return "an" if label[0] in "aeiouAEIOU" else "a"
