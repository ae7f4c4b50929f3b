"""Text and JSON views of an audit report (SARIF is in ``audit.sarif``)."""

from __future__ import annotations

from typing import Any

from accesspath.audit.rule import AuditFinding
from accesspath.audit.run import AuditReport
from accesspath.lint.findings import Severity

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}


def report_text(report: AuditReport, *, colour: bool = False) -> str:
    lines: list[str] = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        group = [f for f in report.findings if f.severity is severity]
        if not group:
            continue
        head = f"{severity.value} ({len(group)})"
        lines.append(f"{_COLOURS[severity]}{head}{_RESET}" if colour else head)
        for item in group:
            finding = item.finding
            lines.append(f"  {finding.location}: [{finding.rule_id}] {finding.message}")
            lines.append(f"      fix: {finding.fix}")
            for evidence in item.evidence[:1]:
                via = f" via {evidence.via}" if evidence.via else ""
                decided = f" ({evidence.statement})" if evidence.statement else ""
                lines.append(f"      asked: {evidence.principal} {evidence.action} on {evidence.resource}{via}:"
                             f" {evidence.decision}{decided}")
            lines.append(f"      see: {finding.doc_url}")
    counts = report.counts()
    if report.nothing_to_check:
        lines.append(nothing_to_check_text(report))
    elif not report.findings:
        lines.append(f"no findings ({len(report.rules)} rules over {report.examined_text()})")
    lines.append("summary: " + ", ".join(f"{counts[s.value]} {_PLURAL[s]}"
                                         for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)))
    return "\n".join(lines) + "\n"


def nothing_to_check_text(report: AuditReport) -> str:
    return (f"nothing to check: the inputs define no {report.examined_text()}, which the {len(report.rules)}"
            " rules audit")


def finding_json(item: AuditFinding) -> dict[str, Any]:
    """A finding in the shape validate writes too, with the subject and the engine's answers behind it."""
    from accesspath.lint.formats.json_format import finding_to_json

    return finding_to_json(item.finding, subject=item.subject, evidence=[{
        "principal": e.principal, "action": e.action, "resource": e.resource,
        "context": dict(e.context), "decision": e.decision, "gate": e.gate,
        "statement": e.statement, "via": e.via,
    } for e in item.evidence])


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "rules": [{"id": r.id, "severity": r.severity.value, "title": r.title, "docUrl": r.help_uri}
                  for r in report.rules],
        "findings": [finding_json(f) for f in report.findings],
        "summary": report.counts(),
        "examined": dict(report.examined),
        "nothingToCheck": report.nothing_to_check,
    }
