"""The shape of an ARN (reference-arns.md): ``arn:partition:service:region:account-id:resource``."""

from __future__ import annotations

# reference-arns.md lists aws, aws-cn and aws-us-gov; the isolated and sovereign partitions are
# those of botocore's endpoint data (partitions.json).
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")


def arn_problem(arn: str) -> str | None:
    """Why ``arn`` (a concrete ARN, no wildcards) is not well formed, or None."""
    parts = arn.split(":", 5)
    if parts[0] != "arn" or len(parts) < 6:
        return "an ARN has the form arn:partition:service:region:account-id:resource"
    if parts[1] not in PARTITIONS:
        return f"'{parts[1]}' is not a partition (expected one of {', '.join(PARTITIONS)})"
    if not parts[2]:
        return "the service part of the ARN is empty"
    if not parts[5]:
        return "the resource part of the ARN is empty"
    return None
