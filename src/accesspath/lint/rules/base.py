"""The shape of a rule: a stable id, a description, a default severity, a documentation link."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from accesspath.lint.context import PolicyContext, StatementView
from accesspath.lint.findings import Finding, Severity
from accesspath.policy import Position


class Rule:
    """A check's data: ``id`` never changes once released; ``severity`` is the default level of its
    findings (a rule documents when a finding takes another level, as ``malformed-arn`` does)."""

    id: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity]
    doc_url: ClassVar[str]
    fix: ClassVar[str]

    def make(self, message: str, *, file: str | None, position: Position | None,
             policy_id: str | None = None, statement: str | None = None, fix: str | None = None,
             severity: Severity | None = None, code: str | None = None) -> Finding:
        where = position.source if position is not None and position.source else file
        return Finding(
            rule_id=self.id, severity=severity or self.severity, message=message, file=where,
            line=position.line if position is not None else None,
            column=position.column if position is not None else None,
            policy_id=policy_id, statement=statement, fix=fix or self.fix, doc_url=self.doc_url, code=code)


class PolicyRule(Rule):
    """A rule that reads one parsed policy."""

    def check(self, context: PolicyContext) -> Iterable[Finding]:
        raise NotImplementedError

    def at(self, context: PolicyContext, message: str, position: Position | None,
           view: StatementView | None = None, *, fix: str | None = None, severity: Severity | None = None,
           code: str | None = None) -> Finding:
        """A finding in ``context``'s policy, in ``view``'s statement (at its start when no position)."""
        statement = view.statement if view is not None else None
        if position is None and statement is not None:
            position = statement.start
        return self.make(message, file=context.file, position=position, policy_id=context.policy_id,
                         statement=statement.label if statement is not None else None,
                         fix=fix, severity=severity, code=code)
