"""Policy validation (``accesspath validate``): rules with stable ids over parsed policies and templates.

Rules (:mod:`accesspath.lint.rules`) are small classes with an id, a description, a default severity,
a documentation link and ``check(context)``; findings are immutable; output formats
(:mod:`accesspath.lint.formats`) are views over one list of findings. The rule list, with
one line per rule, is in :mod:`accesspath.lint.rules`.
"""

from accesspath.lint.context import (
    PolicyContext,
    ResolvedAction,
    StatementView,
    ValueAt,
)
from accesspath.lint.findings import Finding, Severity, count_by_severity, reaches
from accesspath.lint.rules import POLICY_RULES, RULES, PolicyRule, Rule, rule_by_id
from accesspath.lint.validate import (
    SourceFile,
    ValidationReport,
    lint_policy,
    validate_sources,
)

__all__ = [
    "POLICY_RULES",
    "RULES",
    "Finding",
    "PolicyContext",
    "PolicyRule",
    "ResolvedAction",
    "Rule",
    "Severity",
    "SourceFile",
    "StatementView",
    "ValidationReport",
    "ValueAt",
    "count_by_severity",
    "lint_policy",
    "reaches",
    "rule_by_id",
    "validate_sources",
]
