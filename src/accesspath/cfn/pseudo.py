"""Pseudo parameters (pseudo-parameter-reference.md) and the account the stacks are loaded into."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# AWS::NotificationARNs is an empty list: stacks loaded offline have no notification topics.
NO_VALUE = "AWS::NoValue"
PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId",
                     "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs")


def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    return "aws"


def url_suffix_for_partition(partition: str) -> str:
    return {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}.get(
        partition, "amazonaws.com")


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where a stack is deployed: the values of the pseudo parameters."""

    account: str
    region: str
    partition: str
    stack_name: str
    organization_id: str | None = None

    @property
    def url_suffix(self) -> str:
        return url_suffix_for_partition(self.partition)

    @property
    def stack_id(self) -> str:
        # A real stack id ends in a random UUID; this one is derived from the stack's coordinates.
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"cloudformation/{self.account}/{self.region}/{self.stack_name}")
        return (f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:"
                f"stack/{self.stack_name}/{stack_uuid}")

    def pseudo_parameter(self, name: str) -> str | tuple[str, ...] | None:
        """The value of ``AWS::...`` (``None`` for unknown names; AWS::NoValue is handled by the caller)."""
        values: dict[str, str | tuple[str, ...]] = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": (),
        }
        return values.get(name)
