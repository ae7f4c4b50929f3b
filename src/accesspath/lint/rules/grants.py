"""Broad grants: whole services, or actions that change things, allowed on every resource.

Least privilege (https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege)
measured with the access levels of the Service Authorization Reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_understand-policy-summary-access-level-summaries.html).
Only policies that grant are judged: identity-based and resource-based policies. Boundaries,
session policies, SCPs, RCPs and VPC endpoint policies only limit (their ``*`` is the usual
"limit nothing"), and a KMS key policy's ``kms:*`` for the account is AWS's default key policy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from accesspath.lint.context import (
    ALL_ACTIONS,
    RESOLVED,
    PolicyContext,
    ResolvedAction,
    StatementView,
)
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules.base import PolicyRule
from accesspath.policy import Effect, PolicyType

if TYPE_CHECKING:
    from accesspath.catalog import Action

LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")
_GRANTING = (PolicyType.IDENTITY, PolicyType.RESOURCE)
_LEAST_PRIVILEGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"


def access_level_counts(actions: Iterable[Action]) -> str:
    """``"2 List, 40 Read, 60 Write"``: how many actions of each access level, in AWS's order."""
    counts = Counter(action.access_level for action in actions)
    parts = [f"{counts[level]} {level}" for level in LEVELS if counts[level]]
    parts += [f"{n} {level or 'unclassified'}" for level, n in sorted(counts.items()) if level not in LEVELS]
    return ", ".join(parts)


def _broad_allows(context: PolicyContext) -> Iterator[StatementView]:
    if context.policy.policy_type not in _GRANTING:
        return
    for view in context.statements:
        if view.statement.effect is Effect.ALLOW and view.applies_to_all_resources:
            yield view


class FullServiceAccess(PolicyRule):
    id: ClassVar[str] = "full-service-access"
    description: ClassVar[str] = ("an Allow of every action of a service ('s3:*'), of every action ('*'), or of"
                                  " every action but some (NotAction) on every resource ('*')")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _LEAST_PRIVILEGE
    fix: ClassVar[str] = "allow only the actions the workload calls, on the ARNs it uses"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in _broad_allows(context):
            if view.negated_actions:
                yield self.at(context, "Allow with NotAction on '*' grants every action of every service except"
                              f" {', '.join(repr(e.text) for e in view.actions)}",
                              view.statement.action.position, view)
                continue
            for entry in view.actions:
                if not entry.is_full_service or entry.status not in (RESOLVED, ALL_ACTIONS):
                    continue
                actions: Iterable[Action] = (context.catalog.all_actions() if entry.status == ALL_ACTIONS
                                             else entry.actions)
                yield self.at(context, f"'{entry.text}' on '*' opens {access_level_counts(actions)} actions",
                              entry.position, view)


def _scopable(entry: ResolvedAction, level: str) -> tuple[Action, ...]:
    # Actions without resource types can only be granted on "*": nothing to scope there.
    return tuple(a for a in entry.actions if a.access_level == level and not a.takes_no_resource)


def _listing(actions: tuple[Action, ...], limit: int = 3) -> str:
    names = ", ".join(f"'{a.full_name}'" for a in actions[:limit])
    return names + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


class _LevelOnAllResources(PolicyRule):
    level: ClassVar[str]

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in _broad_allows(context):
            if view.negated_actions:
                continue
            for entry in view.actions:
                if entry.is_full_service or entry.status != RESOLVED:
                    continue  # whole services are full-service-access
                actions = _scopable(entry, self.level)
                if actions:
                    what = "" if entry.text == actions[0].full_name and len(actions) == 1 else f" ({_listing(actions)})"
                    yield self.at(context, f"'{entry.text}' on '*' opens {len(actions)} {self.level}"
                                  f" action{'s' if len(actions) > 1 else ''}{what} on every resource",
                                  entry.position, view)


class PermissionsManagementOnAllResources(_LevelOnAllResources):
    id: ClassVar[str] = "permissions-management-on-all-resources"
    description: ClassVar[str] = ("an Allow of Permissions management actions (iam:PassRole, s3:PutBucketPolicy,"
                                  " ...) on every resource ('*') where they could be scoped to ARNs")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _LEAST_PRIVILEGE
    fix: ClassVar[str] = "list the ARNs these actions may change instead of '*'"
    level: ClassVar[str] = "Permissions management"


class WriteOnAllResources(_LevelOnAllResources):
    id: ClassVar[str] = "write-on-all-resources"
    description: ClassVar[str] = ("an Allow of Write actions on every resource ('*') where they could be scoped"
                                  " to ARNs")
    severity: ClassVar[Severity] = Severity.INFO
    doc_url: ClassVar[str] = _LEAST_PRIVILEGE
    fix: ClassVar[str] = "list the ARNs these actions write to instead of '*'"
    level: ClassVar[str] = "Write"
