"""Validate policy files and CloudFormation templates: run every rule, collect the findings.

A file is a CloudFormation template when its top level has ``Resources`` or
``AWSTemplateFormatVersion``; then every policy document inside it is validated with positions in
the template, next to the loader's own issues. Anything else is one policy of the given type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from accesspath.cfn import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    Symbolic,
    TemplateError,
    TemplateSource,
    decode_template,
    load_stacks,
    policy_nodes,
    stack_name_for,
)
from accesspath.cfn.limitations import summarised
from accesspath.errors import UsageError
from accesspath.lint.context import PolicyContext
from accesspath.lint.findings import Finding, count_by_severity
from accesspath.lint.rules import POLICY_RULES, TEMPLATE, PolicyRule
from accesspath.policy import (
    JsonSyntaxError,
    Node,
    Policy,
    PolicyType,
    Position,
    decode_json,
    parse_policy,
)

_TEMPLATE_KEYS = ("Resources", "AWSTemplateFormatVersion")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file's text and the name findings show for it."""

    text: str
    name: str


@dataclass(frozen=True, slots=True)
class ValidationReport:
    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    policies: int

    @property
    def counts(self) -> dict[str, int]:
        return count_by_severity(self.findings)


def lint_policy(policy: Policy, *, file: str | None = None, policy_id: str | None = None,
                unresolved: Iterable[Position] = (),
                rules: Sequence[PolicyRule] = POLICY_RULES) -> tuple[Finding, ...]:
    """Every finding of ``rules`` on one parsed policy."""
    context = PolicyContext(policy, file=file or policy.source, policy_id=policy_id or policy.policy_id,
                            unresolved=unresolved)
    return tuple(finding for rule in rules for finding in rule.check(context))


def validate_sources(sources: Sequence[SourceFile], *, policy_type: PolicyType = PolicyType.IDENTITY,
                     account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
                     parameters: Mapping[str, str] | None = None) -> ValidationReport:
    """Validate policy files and templates; templates are loaded together (imports across them)."""
    findings: list[Finding] = []
    templates: list[TemplateSource] = []
    policies = 0
    for source in sources:
        kind, root = _classify(source)
        if kind == "template":
            templates.append(TemplateSource(source.text, source.name, _stack_name(source.name, templates)))
            continue
        if kind == "broken-template":
            try:
                decode_template(source.text, source.name)
            except TemplateError as error:
                findings.append(TEMPLATE.from_error(error, source.name))
            continue
        document: str | Node = root if root is not None else source.text
        policy = parse_policy(document, policy_type=policy_type, policy_id=source.name, source=source.name)
        findings.extend(lint_policy(policy, file=source.name, policy_id=source.name))
        policies += 1
    if parameters and not templates:
        raise UsageError("--param applies to CloudFormation templates, and none was given")
    if templates:
        template_findings, template_policies = _validate_templates(
            templates, account=account, region=region, parameters=parameters)
        findings.extend(template_findings)
        policies += template_policies
    unique = sorted(set(findings), key=Finding.sort_key)
    return ValidationReport(tuple(unique), tuple(s.name for s in sources), policies)


def _stack_name(name: str, earlier: list[TemplateSource]) -> str:
    """The file's stack name; two files of the same name in different folders get their folder's too."""
    taken = {template.stack_name for template in earlier}
    stack = stack_name_for(name)
    if stack in taken:
        parent = PurePath(name).parent.name
        stack = stack_name_for(f"{parent}-{PurePath(name).name}") if parent else stack
    suffix = 2
    base = stack
    while stack in taken:
        stack, suffix = f"{base}-{suffix}", suffix + 1
    return stack


def _classify(source: SourceFile) -> tuple[str, Node | None]:
    """("template" | "broken-template" | "policy", the decoded tree when there is one)."""
    text = source.text.removeprefix("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            root = decode_json(text, source.name)
        except JsonSyntaxError:
            return "policy", None  # the policy parser reports the syntax error at its position
        return ("template" if _is_template(root) else "policy"), root
    if source.name.lower().endswith(".json"):
        return "policy", None
    try:
        root = decode_template(text, source.name)
    except TemplateError:
        looks_like_template = any(f"{key}:" in text for key in _TEMPLATE_KEYS)
        return ("broken-template" if looks_like_template else "policy"), None
    return ("template" if _is_template(root) else "policy"), root


def _is_template(root: Node) -> bool:
    return root.is_object and any(member.key in _TEMPLATE_KEYS for member in root.value)


def _validate_templates(templates: list[TemplateSource], *, account: str, region: str,
                        parameters: Mapping[str, str] | None) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    loadable: list[TemplateSource] = []
    for template in templates:  # a template that cannot be read must not stop the others
        try:
            decode_template(template.text, template.source)
        except TemplateError as error:
            findings.append(TEMPLATE.from_error(error, template.source))
            continue
        loadable.append(template)
    if not loadable:
        return findings, 0
    try:
        stacks = load_stacks(loadable, account=account, region=region, parameter_overrides=parameters)
    except TemplateError as error:
        findings.append(TEMPLATE.from_error(error, error.source or loadable[0].source))
        return findings, 0
    # A type accesspath does not model is one finding with its counts, not one per resource and reference.
    sources = {stack.name: stack.source for stack in stacks.stacks}
    findings.extend(TEMPLATE.from_issue(issue, issue.position.source if issue.position is not None
                                        and issue.position.source else loadable[0].source)
                    for issue in summarised(stacks.issues))
    count = 0
    for location in policy_nodes(stacks):
        file = sources.get(location.resource.stack) or (location.node.start.source if location.node.start else None)
        policy_id = f"{location.resource.logical_id}.{location.path}"
        unresolved = list(_symbolic_values(location.node))
        findings.extend(TEMPLATE.unresolved(symbolic.reason, position, file=file or "<template>",
                                            policy_id=policy_id)
                        for position, symbolic in unresolved)
        policy = parse_policy(location.node, policy_type=PolicyType(location.kind),
                              policy_id=policy_id, source=file, attachment=location.attachment)
        findings.extend(lint_policy(policy, file=file, policy_id=policy_id,
                                    unresolved=[p for p, _ in unresolved if p is not None]))
        count += 1
    return findings, count


def _symbolic_values(node: Node) -> Iterable[tuple[Position | None, Symbolic]]:
    pending = [node]
    while pending:
        current = pending.pop()
        if current.is_object:
            pending.extend(member.value for member in reversed(current.value))
        elif current.is_array:
            pending.extend(reversed(current.value))
        elif isinstance(current.value, Symbolic):
            yield current.start, current.value
