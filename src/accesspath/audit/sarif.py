"""SARIF 2.1.0 output of an audit: one run, the rules that ran, one result per finding.

(OASIS SARIF 2.1.0: ``reportingDescriptor`` for rules with ``shortDescription``,
``fullDescription``, ``helpUri`` and ``defaultConfiguration.level``; ``result`` with ``ruleId``,
``ruleIndex``, ``level``, ``message.text`` and a ``physicalLocation``.) The artifact URIs and
constants are the lint package's (``accesspath validate``); the log itself is built from the
audit's :class:`RuleInfo` (rationale as fullDescription) and carries each finding's subject.
"""

from __future__ import annotations

from typing import Any

from accesspath import __version__
from accesspath.audit.rule import AuditFinding
from accesspath.audit.run import AuditReport
from accesspath.lint.findings import Severity
from accesspath.lint.formats.sarif import SARIF_SCHEMA, SARIF_VERSION, artifact_uri

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def report_sarif(report: AuditReport) -> dict[str, Any]:
    rules = list(report.rules)
    index = {rule.id: i for i, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "accesspath",
                "version": __version__,
                "rules": [{
                    "id": rule.id,
                    "name": "".join(part.capitalize() for part in rule.id.split("-")),
                    "shortDescription": {"text": rule.title},
                    "fullDescription": {"text": rule.rationale},
                    "help": {"text": f"{rule.fix}. See {', '.join(rule.doc_urls)}"},
                    "helpUri": rule.help_uri,
                    "defaultConfiguration": {"level": _LEVELS[rule.severity]},
                } for rule in rules],
            }},
            "results": [_result(item, index) for item in report.findings],
            "properties": {"examined": dict(report.examined)},
            **_nothing_to_check(report),
        }],
    }


def _nothing_to_check(report: AuditReport) -> dict[str, Any]:
    """An empty result list would read as a clean audit: say, as a tool notification, that nothing was checked."""
    if not report.nothing_to_check:
        return {}
    from accesspath.audit.render import nothing_to_check_text

    return {"invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
        {"level": "warning", "message": {"text": nothing_to_check_text(report)}}]}]}


def _result(item: AuditFinding, index: dict[str, int]) -> dict[str, Any]:
    finding = item.finding
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVELS[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "properties": {"subject": item.subject},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if finding.file:
        location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(finding.file)}}
        if finding.line is not None:
            region: dict[str, int] = {"startLine": finding.line}
            if finding.column is not None:
                region["startColumn"] = finding.column
            location["region"] = region
        result["locations"] = [{"physicalLocation": location,
                                "logicalLocations": [{"name": item.subject}]}]
    else:
        result["locations"] = [{"logicalLocations": [{"name": item.subject}]}]
    return result
