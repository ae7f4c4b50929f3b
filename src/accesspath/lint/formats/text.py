"""``--format text``: one line per finding, ``file:line:col: severity: message [rule-id]``, grouped by file."""

from __future__ import annotations

from accesspath.lint.validate import ValidationReport


def render_text(report: ValidationReport) -> str:
    lines: list[str] = []
    current: str | None = None
    for finding in report.findings:
        if current is not None and finding.file != current:
            lines.append("")
        current = finding.file
        lines.append(f"{finding.location}: {finding.severity.value}: {finding.message} [{finding.rule_id}]")
        where = ", ".join(part for part in (finding.policy_id, finding.statement) if part)
        lines.append(f"    {'in ' + where + '; ' if where else ''}fix: {finding.fix}")
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def summary_line(report: ValidationReport) -> str:
    counts = report.counts
    files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
    policies = f"{report.policies} polic{'ies' if report.policies != 1 else 'y'}"
    if not report.findings:
        return f"no findings in {files} ({policies})"
    parts = [f"{counts['error']} error{'s' if counts['error'] != 1 else ''}",
             f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}",
             f"{counts['info']} info"]
    return f"{', '.join(parts)} in {files} ({policies})"
