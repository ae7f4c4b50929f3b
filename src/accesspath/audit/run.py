"""Run the audit rules over one environment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accesspath.audit.context import AuditContext
from accesspath.audit.rule import AuditFinding, AuditRule, RuleInfo, rule_info_problems
from accesspath.audit.rules import RULE_CLASSES
from accesspath.catalog.endpoint_services import (
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.environment.model import Environment
from accesspath.errors import UsageError
from accesspath.lint.findings import Severity, count_by_severity, reaches


def rule_catalog() -> tuple[RuleInfo, ...]:
    """The data of every rule, checked: a rule with bad data is a programming error, never shipped."""
    infos = tuple(cls.info for cls in RULE_CLASSES)
    problems = [p for info in infos for p in rule_info_problems(info)]
    ids = [info.id for info in infos]
    problems += [f"rule id '{i}' is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise AssertionError("; ".join(problems))
    return infos


# What the rules audit, as (JSON name, what it is): an environment with none of these has nothing to check.
AUDITED_SUBJECTS = (("roles", "IAM role"), ("vpcEndpoints", "VPC endpoint"),
                    ("taskDefinitions", "ECS task definition"), ("instances", "EC2 instance"))


def audited_subjects(env: Environment) -> tuple[tuple[str, int], ...]:
    counts = {"roles": len(env.roles), "vpcEndpoints": len(env.endpoints),
              "taskDefinitions": len(env.task_definitions), "instances": len(env.instances)}
    return tuple((name, counts[name]) for name, _ in AUDITED_SUBJECTS)


@dataclass(frozen=True)
class AuditReport:
    rules: tuple[RuleInfo, ...]           # the rules that ran
    findings: tuple[AuditFinding, ...]    # most severe first, then by file:line:col
    examined: tuple[tuple[str, int], ...] = ()  # how many of each audited subject the inputs define

    @property
    def nothing_to_check(self) -> bool:
        """The inputs define nothing the rules audit: "no findings" would claim a check that never ran."""
        return all(count == 0 for _, count in self.examined)

    def examined_text(self) -> str:
        """``3 IAM roles, 2 VPC endpoints`` (what was audited), or the list of what the rules look for."""
        names = dict(AUDITED_SUBJECTS)
        present = [f"{count} {names[key]}{'s' if count != 1 else ''}" for key, count in self.examined if count]
        if present:
            return ", ".join(present)
        wanted = [names[key] for key, _ in AUDITED_SUBJECTS]
        return ", ".join(wanted[:-1]) + " or " + wanted[-1]

    def counts(self) -> dict[str, int]:
        return count_by_severity(f.finding for f in self.findings)

    def reaches(self, threshold: Severity) -> bool:
        return reaches((f.finding for f in self.findings), threshold)


def select_rules(only: Sequence[str] = (), skip: Sequence[str] = ()) -> tuple[type[AuditRule], ...]:
    known = {cls.info.id: cls for cls in RULE_CLASSES}
    for rule_id in [*only, *skip]:
        if rule_id not in known:
            raise UsageError(f"unknown audit rule '{rule_id}' (rules: {', '.join(known)})")
    return tuple(cls for cls in RULE_CLASSES
                 if (not only or cls.info.id in only) and cls.info.id not in skip)


def run_audit(env: Environment, endpoint_services: EndpointServiceTable | None = None, *,
              rules: Sequence[type[AuditRule]] | None = None) -> AuditReport:
    rule_catalog()
    context = AuditContext(env, endpoint_services or default_endpoint_services())
    chosen = tuple(rules) if rules is not None else RULE_CLASSES
    findings: list[AuditFinding] = []
    for cls in chosen:
        findings.extend(cls().check(context))
    findings.sort(key=AuditFinding.sort_key)
    return AuditReport(tuple(cls.info for cls in chosen), tuple(findings), audited_subjects(env))
