"""Helpers for the audit tests: load a template (with --param overrides) and audit it."""

from __future__ import annotations

from pathlib import Path

import pytest

from accesspath.audit import AuditReport, run_audit
from accesspath.environment import load_environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
EXAMPLES = ROOT / "examples"


def audit_of(*paths: Path | str, region: str | None = None, **parameters: str) -> AuditReport:
    env = load_environment([str(p) for p in paths], region=region, parameters=parameters)
    return run_audit(env)


def rule_ids(report: AuditReport) -> set[str]:
    return {f.rule_id for f in report.findings}


def of_rule(report: AuditReport, rule_id: str) -> list:
    return [f for f in report.findings if f.rule_id == rule_id]


@pytest.fixture(scope="session")
def seed003() -> AuditReport:
    folder = EXAMPLES / "seed003-task-role-policies"
    return audit_of(folder / "ecs-task-roles.yaml", folder / "backend-task-role-policies.yaml",
                    folder / "frontend-task-role-policies.yaml")
