"""``--format json``: the findings and their counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from accesspath.lint.findings import Finding
from accesspath.lint.validate import ValidationReport


def finding_to_json(finding: Finding, *, subject: str | None = None,
                    evidence: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """One finding in the shape ``validate`` and ``audit`` share (vocabulary.schema.json#/$defs/finding):
    ``subject`` and ``evidence`` are what an audit rule asked the engine about (null and empty for validate)."""
    return {
        "ruleId": finding.rule_id, "severity": finding.severity.value, "message": finding.message,
        "location": {"file": finding.file, "line": finding.line, "column": finding.column},
        "policyId": finding.policy_id, "statement": finding.statement, "code": finding.code,
        "fix": finding.fix, "docUrl": finding.doc_url, "subject": subject, "evidence": list(evidence),
    }


def render_json(report: ValidationReport) -> str:
    payload = {"findings": [finding_to_json(f) for f in report.findings], "counts": report.counts,
               "files": list(report.files), "policies": report.policies}
    return json.dumps(payload, indent=2) + "\n"
