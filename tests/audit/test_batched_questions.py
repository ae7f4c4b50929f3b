"""The audit's batched questions give the answers of one question at a time (issue 14).

task-role-overbroad asks each role about every write action of a service in one batch
(``AuditContext.role_may_each`` → ``Decider.decide_many``), without filling the decision caches.
Here the same audit runs with each question asked alone, as the rule asked before, and the JSON of
both must be identical, on the generated estate that the scale figures are measured on.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from accesspath.audit.context import AuditContext
from accesspath.cli import main
from accesspath.environment.decide import CallDecision

ROOT = Path(__file__).resolve().parents[2]


def _write_estate(path: Path, count: int) -> None:
    spec = importlib.util.spec_from_file_location("gen_environment", ROOT / "benchmarks" / "gen_environment.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(count), "-o", str(path)]) == 0


def _audit_json(template: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    main(["audit", str(template), "--region", "us-east-1", "--format", "json"])
    return json.loads(capsys.readouterr().out)


def test_batched_and_one_at_a_time_audits_are_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    template = tmp_path / "estate.yaml"
    _write_estate(template, 4)
    batched = _audit_json(template, capsys)

    asked_alone: list[str] = []

    def one_at_a_time(self: AuditContext, role, requests) -> list[CallDecision]:  # type: ignore[no-untyped-def]
        asked_alone.append(role.name)
        return [self.role_may(role, request.action, request.resource) for request in requests]

    monkeypatch.setattr(AuditContext, "role_may_each", one_at_a_time)
    alone = _audit_json(template, capsys)
    assert asked_alone  # the rule really went through the one-at-a-time path
    assert alone == batched
    # and the estate gives the rule something to find: services whose roles put events anywhere
    assert any(f["ruleId"] == "task-role-overbroad" for f in batched["findings"])


def test_decide_many_answers_as_decide_and_leaves_the_caches_alone(tmp_path: Path) -> None:
    from accesspath.environment import load_environment

    template = tmp_path / "estate.yaml"
    _write_estate(template, 2)
    env = load_environment([str(template)], region="us-east-1")
    context = AuditContext(env)
    role = next(r for r in context.task_roles if r.name == "svc0002-task")  # even services may put events
    requests = context.undeclared_write_requests("events") + context.undeclared_write_requests("sqs")
    batched = context.role_may_each(role, requests)
    cached_before = sum(len(s.decision_cache) for s in context.decider._policy_sets.values())
    alone = [context.role_may(role, r.action, r.resource) for r in requests]
    assert [(d.decision, d.request, d.message, d.resource_owner) for d in batched] == \
           [(d.decision, d.request, d.message, d.resource_owner) for d in alone]
    assert any(d.allowed for d in batched) and not all(d.allowed for d in batched)
    assert cached_before == 0  # the batch kept nothing; asking alone does
    assert sum(len(s.decision_cache) for s in context.decider._policy_sets.values()) > 0
