"""``--format sarif``: SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html),
one run, every rule described in ``tool.driver.rules``, one result per finding."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules import RULES
from accesspath.lint.validate import ValidationReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/accesspath/"

# SARIF's levels are none/note/warning/error (§3.27.10); "info" is a note.
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_uri(file: str) -> str:
    """A file name as a URI reference (relative paths stay relative, §3.4.3)."""
    return quote(PurePath(file).as_posix(), safe="/:._-~")


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
    }
    if finding.file is not None:
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(finding.file)}}}
        if finding.line is not None:
            region: dict[str, int] = {"startLine": finding.line}
            if finding.column is not None:
                region["startColumn"] = finding.column
            location["physicalLocation"]["region"] = region
        if finding.policy_id:
            name = finding.policy_id + (f"/{finding.statement}" if finding.statement else "")
            location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "object"}]
        result["locations"] = [location]
    properties = {"fix": finding.fix}
    if finding.policy_id:
        properties["policyId"] = finding.policy_id
    if finding.statement:
        properties["statement"] = finding.statement
    if finding.code:
        properties["code"] = finding.code
    result["properties"] = properties
    return result


def sarif_log(report: ValidationReport) -> dict[str, Any]:
    from accesspath import __version__

    rules = [{
        "id": rule.id,
        "shortDescription": {"text": rule.description},
        "helpUri": rule.doc_url,
        "help": {"text": rule.fix},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
    } for rule in RULES]
    rule_index = {rule.id: index for index, rule in enumerate(RULES)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "accesspath", "informationUri": INFORMATION_URI,
                                "version": __version__, "rules": rules}},
            "results": [_result(finding, rule_index) for finding in report.findings],
        }],
    }


def render_sarif(report: ValidationReport) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"
