"""Action names: services and actions the Service Authorization Reference does not know.

A misspelt action is accepted by IAM and simply never matches a request, so an Allow grants less
than written and a Deny protects less than written
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from accesspath.lint.context import (
    NO_MATCH,
    UNKNOWN_ACTION,
    UNKNOWN_SERVICE,
    PolicyContext,
)
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules.base import PolicyRule

_REFERENCE = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
              "reference_policies_actions-resources-contextkeys.html")


def _element(negated: bool) -> str:
    return "NotAction" if negated else "Action"


class UnknownService(PolicyRule):
    id: ClassVar[str] = "unknown-service"
    description: ClassVar[str] = "an action's service prefix is not a service of the Service Authorization Reference"
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = _REFERENCE
    fix: ClassVar[str] = "use the service prefix the Service Authorization Reference lists (e.g. 'ecs', 'logs')"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in context.statements:
            for entry in view.actions:
                if entry.status != UNKNOWN_SERVICE:
                    continue
                hint = f" (did you mean '{entry.closest}'?)" if entry.closest else ""
                fix = (f"replace '{entry.service}' with '{entry.closest}'" if entry.closest else None)
                yield self.at(context, f"unknown service '{entry.text.partition(':')[0]}' in"
                              f" {_element(view.negated_actions)} '{entry.text}'{hint}", entry.position, view, fix=fix)


class UnknownAction(PolicyRule):
    id: ClassVar[str] = "unknown-action"
    description: ClassVar[str] = "an action (without wildcards) that its service does not have"
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = _REFERENCE
    fix: ClassVar[str] = "use an action name the Service Authorization Reference lists for the service"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in context.statements:
            for entry in view.actions:
                if entry.status != UNKNOWN_ACTION:
                    continue
                hint = f" (did you mean '{entry.closest}'?)" if entry.closest else ""
                fix = f"replace '{entry.text}' with '{entry.closest}'" if entry.closest else None
                yield self.at(context, f"unknown action '{entry.text}'{hint}", entry.position, view, fix=fix)


class ActionPatternMatchesNothing(PolicyRule):
    id: ClassVar[str] = "action-pattern-matches-nothing"
    description: ClassVar[str] = "an action pattern with wildcards that matches no action of its service(s)"
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
    fix: ClassVar[str] = "correct the pattern; 'accesspath actions PATTERN' lists what a pattern matches"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in context.statements:
            for entry in view.actions:
                if entry.status == NO_MATCH:
                    yield self.at(context, f"action pattern '{entry.text}' matches no action", entry.position, view)
