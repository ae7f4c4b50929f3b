"""Named conversions from request parameter values to ARN parts, used by the call mappings.

Each takes one parameter value and returns the ARN part; bad input raises UsageError.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable

from accesspath.errors import UsageError

# https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, and the legacy REGION.queue.amazonaws.com host
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html)
_QUEUE_URL = re.compile(r"^https?://[^/]+/(?P<account>\d{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)/?$")


def _queue_url(value: str) -> re.Match[str]:
    match = _QUEUE_URL.match(value)
    if match is None:
        raise UsageError(f"'{value}' is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
    return match


def queue_url_name(value: str) -> str:
    return _queue_url(value)["name"]


def queue_url_account(value: str) -> str:
    return _queue_url(value)["account"]


_QUEUE_HOST_REGION = re.compile(r"^https?://(?:sqs[.-](?P<new>[a-z]{2}(?:-[a-z]+)+-\d+)|(?P<old>[a-z]{2}(?:-[a-z]+)+-\d+)"
                                r"\.queue)\.amazonaws\.com(?:\.cn)?(?::\d+)?/")


def queue_url_region(value: str) -> str:
    """The region in the queue URL's host; '' when the host names none (a local endpoint), which
    leaves the call's own region in place."""
    _queue_url(value)
    match = _QUEUE_HOST_REGION.match(value)
    return (match["new"] or match["old"]) if match else ""


def strip_leading_slash(value: str) -> str:
    """SSM parameter ARNs hold the name without its leading slash: ``/a/b`` → ``parameter/a/b``."""
    return value.removeprefix("/")


def _copy_source(value: str) -> tuple[str, str]:
    # CopySource is "bucket/key" (URL-encoded, optionally "?versionId=..."), or with a leading "/".
    text = urllib.parse.unquote(value.split("?versionId=", 1)[0]).lstrip("/")
    bucket, slash, key = text.partition("/")
    if not slash or not bucket or not key:
        raise UsageError(f"copy source '{value}' is not of the form 'bucket/key'")
    return bucket, key


def copy_source_bucket(value: str) -> str:
    return _copy_source(value)[0]


def copy_source_key(value: str) -> str:
    return _copy_source(value)[1]


class NotKnownOffline(Exception):
    """The value names a resource whose ARN only AWS can tell (the key behind a KMS alias)."""

    def __init__(self, reason: str, context: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context = context or {}


def kms_key_id(value: str) -> str:
    """IAM authorizes KMS calls against the key, never its alias (KMS Developer Guide, "Using
    aliases to control access"): the key behind an alias is not known offline."""
    if value.startswith("alias/") or ":alias/" in value:
        alias = value[value.index("alias/"):]
        raise NotKnownOffline(f"the KMS key behind '{alias}' is not known: AWS authorizes the key, not its alias",
                              {"kms:RequestAlias": alias})
    return value


def task_definition_family(value: str) -> str:
    return value.rsplit(":", 1)[0] if ":" in value else value


def task_definition_revision(value: str) -> str:
    """``family:3`` → ``3``; a bare family (latest ACTIVE revision) → ``*`` (the request says so)."""
    if ":" in value and not value.startswith("arn:"):
        return value.rsplit(":", 1)[1]
    return "*"


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "queue_url_name": queue_url_name,
    "queue_url_account": queue_url_account,
    "queue_url_region": queue_url_region,
    "strip_leading_slash": strip_leading_slash,
    "copy_source_bucket": copy_source_bucket,
    "copy_source_key": copy_source_key,
    "kms_key_id": kms_key_id,
    "task_definition_family": task_definition_family,
    "task_definition_revision": task_definition_revision,
}
