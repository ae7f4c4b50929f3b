"""``--format json``: the findings and their counts."""

from __future__ import annotations

import json
from typing import Any

from accesspath.lint.findings import Finding
from accesspath.lint.validate import ValidationReport


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "ruleId": finding.rule_id, "severity": finding.severity.value, "message": finding.message,
        "file": finding.file, "line": finding.line, "column": finding.column,
        "policyId": finding.policy_id, "statement": finding.statement, "fix": finding.fix,
        "helpUri": finding.doc_url, "code": finding.code,
    }


def render_json(report: ValidationReport) -> str:
    payload = {"findings": [finding_to_json(f) for f in report.findings], "counts": report.counts,
               "files": list(report.files), "policies": report.policies}
    return json.dumps(payload, indent=2) + "\n"
