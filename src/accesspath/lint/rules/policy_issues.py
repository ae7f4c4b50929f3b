"""The policy parser's own issues, reported as findings (the parser is the one place they are decided)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from accesspath.lint.context import PolicyContext
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules.base import PolicyRule
from accesspath.policy import PolicyIssue
from accesspath.policy import Severity as IssueSeverity

# The parser's "resource-not-arn" warning is reported by malformed-arn, which says the same about
# the same value and adds the fix; reporting both would show one problem twice. Size problems have
# a rule of their own (policy-too-large), with their own fix.
_REPORTED_AS_MALFORMED_ARN = frozenset({"resource-not-arn"})
_SIZE = "policy-too-large"


def _issues(context: PolicyContext, severity: IssueSeverity, *, size: bool = False) -> Iterator[PolicyIssue]:
    for issue in context.policy.issues:
        if issue.severity is not severity or issue.code in _REPORTED_AS_MALFORMED_ARN:
            continue
        if (issue.code == _SIZE) is not size:
            continue
        if issue.position is not None and issue.position in context.unresolved:
            continue  # a template value not known offline: reported by the template rule instead
        yield issue


def _statement_at(context: PolicyContext, issue: PolicyIssue) -> str | None:
    """The label of the statement whose span holds the issue, if any."""
    if issue.position is None:
        return None
    where = (issue.position.line, issue.position.column)
    for statement in context.policy.statements:
        if statement.start is None or statement.end is None:
            continue
        if (statement.start.line, statement.start.column) <= where < (statement.end.line, statement.end.column):
            return statement.label
    return None


class _ParserIssues(PolicyRule):
    """Reports the parser's own issues of one severity (the parser is the one reader of policy text)."""

    issue_severity: ClassVar[IssueSeverity]

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for issue in _issues(context, self.issue_severity):
            finding = self.at(context, issue.message, issue.position, code=issue.code)
            yield _with_statement(finding, _statement_at(context, issue))


class MalformedPolicy(_ParserIssues):
    id: ClassVar[str] = "malformed-policy"
    description: ClassVar[str] = ("the policy breaks the IAM policy grammar; AWS rejects it with"
                                  " MalformedPolicyDocument (JSON syntax, unknown or duplicate elements,"
                                  " missing Effect/Action/Resource, bad principals (a wildcard inside a"
                                  " principal ARN), a wildcard in an action's service prefix, NotPrincipal in a"
                                  " trust policy, RCP statements RCPs do not accept, operators and values)")
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"
    fix: ClassVar[str] = "correct the element as the IAM policy grammar describes it"

    issue_severity: ClassVar[IssueSeverity] = IssueSeverity.ERROR


class PolicyElementWarning(_ParserIssues):
    id: ClassVar[str] = "policy-element-warning"
    description: ClassVar[str] = ("AWS accepts the element but it does not do what it seems to: NotPrincipal"
                                  " with Allow, a wildcard in an ARN's service segment, a policy variable"
                                  " before an ARN's resource part, a set operator with Null")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html"
    fix: ClassVar[str] = "rewrite the element so that it means what it says (see the message)"

    issue_severity: ClassVar[IssueSeverity] = IssueSeverity.WARNING


class PolicyTooLarge(PolicyRule):
    """AWS's size limit for the policy's kind (accesspath.policy.limits, each limit with its page)."""

    id: ClassVar[str] = "policy-too-large"
    description: ClassVar[str] = ("the policy is larger than AWS stores for its kind (inline, managed, trust,"
                                  " session, SCP, RCP, VPC endpoint, bucket, key, queue, topic, secret or"
                                  " repository policy): AWS refuses it, and accesspath never lets it allow;"
                                  " a warning when only an adjustable quota's default is exceeded")
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
    fix: ClassVar[str] = ("split the policy (several inline or managed policies), or shorten it: wildcards in"
                          " actions and resources, fewer repeated condition blocks")

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for severity in (IssueSeverity.ERROR, IssueSeverity.WARNING):
            for issue in _issues(context, severity, size=True):
                yield self.at(context, issue.message, issue.position, code=issue.code,
                              severity=Severity.ERROR if severity is IssueSeverity.ERROR else Severity.WARNING)


def _with_statement(finding: Finding, label: str | None) -> Finding:
    if label is None or finding.statement is not None:
        return finding
    return replace(finding, statement=label)
