"""What an audit rule is: its data (id, severity, rationale, fix, AWS pages) beside one check.

A finding is the lint package's :class:`~accesspath.lint.findings.Finding` (one shape for every
output format), carried with what the audit adds: the subject it is about and the questions put
to the engine that produced it (:class:`Evidence`), so a reader can re-ask them with
``accesspath can``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from accesspath.engine import AuthorizationResult
from accesspath.lint.findings import Finding, Severity
from accesspath.policy import Position

if TYPE_CHECKING:
    from accesspath.audit.context import AuditContext

# Descriptive, lowercase, hyphenated; never a severity code such as "E101" or "W-...".
_RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
_DOC_PREFIXES = ("https://docs.aws.amazon.com/",)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """The data about one check; ``doc_urls[0]`` is the page a finding links to."""

    id: str
    severity: Severity
    title: str          # one line: SARIF shortDescription
    rationale: str      # why it matters: SARIF fullDescription
    fix: str            # the general fix; a finding may give a more specific one
    doc_urls: tuple[str, ...]

    @property
    def help_uri(self) -> str:
        return self.doc_urls[0]


def rule_info_problems(info: RuleInfo) -> list[str]:
    """What is wrong with a rule's data (empty when nothing is)."""
    problems = []
    if not _RULE_ID.fullmatch(info.id):
        problems.append(f"rule id '{info.id}' is not a descriptive lowercase-hyphenated name")
    if not isinstance(info.severity, Severity):
        problems.append(f"rule '{info.id}' has severity {info.severity!r}, not a Severity")
    for name in ("title", "rationale", "fix"):
        text = getattr(info, name)
        if not text or not text.strip():
            problems.append(f"rule '{info.id}' has no {name}")
        elif name == "title" and text[0].isupper() and not text.split()[0].isupper():
            problems.append(f"rule '{info.id}': the title should be lowercase-first (acronyms aside)")
    if not info.doc_urls:
        problems.append(f"rule '{info.id}' cites no AWS documentation page")
    for url in info.doc_urls:
        if not url.startswith(_DOC_PREFIXES):
            problems.append(f"rule '{info.id}': '{url}' is not an AWS documentation page")
    return problems


@dataclass(frozen=True, slots=True)
class Evidence:
    """One question put to the engine, and its answer."""

    principal: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...]
    decision: str                      # allowed, explicitDeny, implicitDeny, unreachable, undetermined
    gate: str | None = None            # the gate that decided a denial
    statement: str | None = None       # "policy id, Sid at file:line:col" of the deciding statement
    via: str | None = None             # the endpoint (or network path) the question went through

    @classmethod
    def of(cls, result: AuthorizationResult, context: Mapping[str, str] | None = None,
           via: str | None = None) -> Evidence:
        request = result.request
        return cls(request.principal.arn, request.action, request.resource,
                   tuple(sorted((context or {}).items())), result.decision.value,
                   result.deciding_gate.value if result.deciding_gate is not None else None,
                   deciding_statement(result), via)


def deciding_statement(result: AuthorizationResult) -> str | None:
    if not result.deciding_statements:
        return None
    match = result.deciding_statements[0]
    where = f" at {match.statement.start}" if match.statement.start is not None else ""
    return f"{match.policy.policy_id}, {match.statement.label}{where}"


def deciding_position(result: AuthorizationResult | None) -> Position | None:
    """Where the statement that decided ``result`` starts (for a finding's location)."""
    if result is None or not result.deciding_statements:
        return None
    return result.deciding_statements[0].statement.start


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """A finding, the subject it is about (``role app-task-role``) and the engine's answers behind it."""

    finding: Finding
    subject: str
    evidence: tuple[Evidence, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def rule_id(self) -> str:
        return self.finding.rule_id

    def sort_key(self) -> tuple[int, str, int, int, str, str]:
        f = self.finding
        return (-f.severity.rank, f.file or "", f.line or 0, f.column or 0, f.rule_id, f.message)


class AuditRule(ABC):
    """One check. Subclasses set ``info`` and implement :meth:`check` as questions to the engine."""

    info: ClassVar[RuleInfo]

    @abstractmethod
    def check(self, audit: AuditContext) -> Iterable[AuditFinding]:
        """The findings of this rule in the audited environment."""

    def finding(self, message: str, *, subject: str, position: Position | None,
                evidence: Iterable[Evidence] = (), fix: str | None = None, policy_id: str | None = None,
                statement: str | None = None) -> AuditFinding:
        info = self.info
        return AuditFinding(
            Finding(rule_id=info.id, severity=info.severity, message=message,
                    file=position.source if position is not None else None,
                    line=position.line if position is not None else None,
                    column=position.column if position is not None else None,
                    policy_id=policy_id, statement=statement, fix=fix or info.fix, doc_url=info.help_uri),
            subject, tuple(evidence))
