"""Template loading problems, reported next to the policy findings of the same templates."""

from __future__ import annotations

from typing import ClassVar

from accesspath.cfn import TemplateError, TemplateIssue
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules.base import Rule
from accesspath.policy import Position
from accesspath.policy import Severity as IssueSeverity

# A type accesspath does not read is a limitation of accesspath, not a mistake in the template.
_NOT_MODELLED_FIX = ("nothing to correct in the template; where a policy or the network uses a value of these"
                     " resources, give it with --param or --import, or read the deployed account with"
                     " 'accesspath snapshot'")


class TemplateProblem(Rule):
    """The CloudFormation loader's own issues (unknown attributes, missing imports, unresolved values)
    keep the loader's severity and code; a template that cannot be read at all is an error; a policy
    value that cannot be known offline is info: that value is not checked."""

    id: ClassVar[str] = "template"
    description: ClassVar[str] = ("a CloudFormation template problem: syntax, structure, unresolved references"
                                  " and imports, policy values that cannot be known offline")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html"
    fix: ClassVar[str] = "correct the template, or load the templates it imports from together with it"

    def from_issue(self, issue: TemplateIssue, file: str) -> Finding:
        severity = Severity.ERROR if issue.severity is IssueSeverity.ERROR else Severity.WARNING
        fix = _NOT_MODELLED_FIX if issue.code == "not-modelled" else None
        return self.make(issue.message, file=file, position=issue.position, severity=severity, code=issue.code,
                         fix=fix)

    def from_error(self, error: TemplateError, file: str) -> Finding:
        code = {"TemplateSyntaxError": "syntax", "ParameterValueError": "parameter-value",
                "CircularReferenceError": "circular-reference"}.get(type(error).__name__, "template-error")
        return self.make(error.message, file=file, position=error.position, severity=Severity.ERROR, code=code)

    def unresolved(self, reason: str, position: Position | None, *, file: str, policy_id: str) -> Finding:
        return self.make(f"a value of this policy is not known offline ({reason}); it is not checked",
                         file=file, position=position, policy_id=policy_id, severity=Severity.INFO,
                         code="unresolved-policy-value",
                         fix="pass the parameter with --param, or load the template that exports the value")


TEMPLATE = TemplateProblem()
