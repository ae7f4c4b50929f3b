"""Resource ARNs: malformed ones, and ones no action of the statement can ever be authorized on."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from accesspath.lint.arn_match import (
    ALL_RESOURCES_ITEMS,
    Items,
    intersects,
    pattern_items,
    service_arn_items,
    template_items,
)
from accesspath.lint.context import (
    ALL_ACTIONS,
    RESOLVED,
    PolicyContext,
    StatementView,
    ValueAt,
)
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.rules.base import PolicyRule
from accesspath.policy.arns import PARTITIONS
from accesspath.policy.patterns import ARN as ARN_MODE
from accesspath.policy.patterns import Pattern, wildcard_match

if TYPE_CHECKING:
    from accesspath.catalog import Action



def arn_problem(text: str) -> str | None:
    """Why ``text`` (not ``*``) is not a well-formed ARN pattern, or None."""
    if not text.startswith("arn:"):
        return "prefix"
    segments = text.split(":", 5)
    if len(segments) < 6:
        return "segments"
    if not any(wildcard_match(segments[1], known) for known in PARTITIONS):
        return "partition"
    if not segments[2]:
        return "service"
    return None


class MalformedArn(PolicyRule):
    """IAM rejects a Resource that starts with ``arn:`` but lacks segments ("Resource ... must be in
    ARN format or "*"") or names an unknown partition ("Partition ... is not valid for resource"):
    those are errors. A Resource that does not start with ``arn:`` at all but has the colons of one
    (seed 003's ``*arn:aws:iam::...``) is accepted by IAM, so it is reported as a warning.
    """

    id: ClassVar[str] = "malformed-arn"
    description: ClassVar[str] = ("a Resource or NotResource that is not a well-formed ARN: it does not start"
                                  " with 'arn:', has fewer than six colon-separated parts, or names an"
                                  " unknown partition")
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"
    fix: ClassVar[str] = "write the ARN as arn:partition:service:region:account-id:resource"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in context.statements:
            for value in view.resources:
                finding = self._check_value(context, view, value)
                if finding is not None:
                    yield finding

    def _check_value(self, context: PolicyContext, view: StatementView, value: ValueAt) -> Finding | None:
        text = value.text
        problem = None if text == "*" else arn_problem(text)
        if problem is None:
            return None
        if problem == "prefix":
            start = text.find("arn:")
            fix = f"write '{text[start:]}'" if start > 0 else None
            first = text.split(":", 1)[0]
            note = (f"; '{first}' happens to match 'arn' through its wildcard, so it works by accident"
                    if wildcard_match(first, "arn") else "")
            return self.at(context, f"resource '{text}' does not start with 'arn:'{note}", value.position, view,
                           fix=fix, severity=Severity.WARNING)
        segments = text.split(":", 5)
        if problem == "segments":
            return self.at(context, f"resource '{text}' has {len(segments)} of the 6 colon-separated parts of an"
                           " ARN (arn:partition:service:region:account-id:resource)", value.position, view)
        partition = segments[1]
        if problem == "partition":
            return self.at(context, f"resource '{text}' names the unknown partition '{partition}'"
                           f" (expected one of {', '.join(PARTITIONS)})", value.position, view,
                           fix=f"use the partition 'aws' (or {', '.join(PARTITIONS[1:3])}) in '{text}'")
        return self.at(context, f"resource '{text}' has no service part", value.position, view)


class ResourceTypeMismatch(PolicyRule):
    """Each action is authorized against ARNs of its own resource types (the Service Authorization
    Reference's "Resource types" column), or against ``*`` when it has none. A Resource that no ARN
    of those types can match never lets the statement apply: ``s3:GetObject`` on the bucket ARN
    ``arn:aws:s3:::bucket``, ``logs:PutLogEvents`` on a log-group ARN without ``:*``.
    (reference_policies_elements_resource.md; the check is sound, see :mod:`accesspath.lint.arn_match`.)
    """

    id: ClassVar[str] = "resource-type-mismatch"
    description: ClassVar[str] = ("a Resource that can never match a resource type of the statement's actions,"
                                  " or a named action that none of the statement's Resources can match")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
                              "reference_policies_actions-resources-contextkeys.html")
    fix: ClassVar[str] = "use ARNs of the resource types the actions are authorized on"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view in context.statements:
            if view.negated_actions or view.negated_resources or not view.resources:
                continue
            if any(entry.status == ALL_ACTIONS or entry.service_has_wildcard for entry in view.actions):
                continue  # every service's actions: any ARN may fit one of them
            actions = view.known_actions
            if not actions or any(value.text == "*" for value in view.resources):
                continue
            yield from self._check_statement(context, view, actions)

    def _check_statement(self, context: PolicyContext, view: StatementView,
                         actions: tuple[Action, ...]) -> Iterator[Finding]:
        resource = view.statement.resource
        assert resource is not None
        targets = {action.full_name: _targets(context, action) for action in actions}
        fitting: set[str] = set()
        dead: list[tuple[ValueAt, Pattern]] = []
        for value, pattern in zip(view.resources, resource.patterns):
            if arn_problem(value.text) is not None:
                fitting |= set(targets)  # malformed-arn reports it; do not guess what it meant
                continue
            fits = {name for name, templates in targets.items() if _fits(pattern, templates)}
            fitting |= fits
            if not fits:
                dead.append((value, pattern))
        for value, pattern in dead:
            expected = _expected(targets)
            if len(actions) == 1:
                subject = f"'{actions[0].full_name}'"
            else:
                subject = f"any of the statement's {len(actions)} actions"
            yield self.at(context, f"resource '{value.text}' can never match {subject}, which"
                          f" {'is' if len(actions) == 1 else 'are'} authorized on {expected}",
                          value.position, view, fix=_fix(pattern, targets))
        if len(dead) == len(view.resources):
            return  # every resource is already reported; naming each action again says nothing new
        for entry in view.actions:
            if entry.status != RESOLVED or any(c in entry.text for c in "*?"):
                continue  # patterns like s3:* commonly cover actions the resources do not fit
            for action in entry.actions:
                if action.full_name not in fitting:
                    yield self.at(context, f"action '{entry.text}' can match none of the statement's resources:"
                                  f" it is authorized on {_expected({action.full_name: targets[action.full_name]})}",
                                  entry.position, view,
                                  fix=f"add a Resource for '{entry.text}' or move it to a statement of its own")


_Target = tuple[str, Items]  # (what to show, the request ARNs it stands for)


@functools.lru_cache(maxsize=1)
def _request_arn_templates() -> dict[str, tuple[str, ...]]:
    """ARN templates AWS evaluates in place of the reference's, by lowercased action, from the curated
    call mappings (log-group operations are authorized on 'log-group:NAME:log-stream:')."""
    from accesspath.catalog.call_mappings import default_call_mappings

    mappings = default_call_mappings()
    specs = [request for service in mappings.services.values() for operation in service.operations.values()
             for request in operation.requests]
    specs += [step.request for sequence in mappings.sequences.values() for step in sequence.steps
              if step.request is not None]
    found: dict[str, list[str]] = {}
    for spec in specs:
        if spec.resource and spec.resource not in found.setdefault(spec.action.lower(), []):
            found[spec.action.lower()].append(spec.resource)
    return {action: tuple(templates) for action, templates in found.items()}


def _targets(context: PolicyContext, action: Action) -> tuple[_Target, ...]:
    """The ARN templates an action is authorized on, and ``*`` when it can be called without one.

    Both the reference's templates and the ARNs AWS is known to evaluate instead (the call mappings)
    count: a Resource is reported only when it matches neither.
    """
    pairs = context.catalog.action_resource_types(action)
    templates = [rt.arn_template for _, rt in pairs]
    out: list[_Target] = [(f"{row.name} ({rt.arn_template})", template_items(rt.arn_template)) for row, rt in pairs]
    out += [(f"'{template}'", template_items(template))
            for template in _request_arn_templates().get(action.full_name.lower(), ()) if template not in templates]
    if not pairs:
        # The reference says such actions take "*" (model.Action.takes_no_resource), yet AWS's own
        # examples grant some of them on ARNs of their service (s3:ListAllMyBuckets on
        # 'arn:aws:s3:::*' in reference_policies_evaluation-logic.md, iam:ListUsers on a user path in
        # reference_policies_examples_iam_policy-sim-path-console.md). To stay sound, any ARN of the
        # action's service counts as a possible match.
        out.append(("'*'", ALL_RESOURCES_ITEMS))
        out.append((f"ARNs of '{action.service}'", service_arn_items(action.service)))
    return tuple(out)


def _fits(pattern: Pattern, targets: tuple[_Target, ...]) -> bool:
    items = pattern_items(pattern)
    return any(intersects(items, target) for _, target in targets)


def _expected(targets: dict[str, tuple[_Target, ...]], limit: int = 3) -> str:
    shown: list[str] = []
    for options in targets.values():
        for label, _ in options:
            if label not in shown:
                shown.append(label)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def _fix(pattern: Pattern, targets: dict[str, tuple[_Target, ...]]) -> str:
    # The usual slip is a missing ':*' (log groups → log streams) or '/*' (bucket → objects).
    for suffix in (":*", "/*"):
        widened = Pattern.compile(pattern.text + suffix, mode=ARN_MODE, variables=pattern.has_variables)
        if any(_fits(widened, options) for options in targets.values()):
            return f"write '{pattern.text}{suffix}'"
    for options in targets.values():
        for label, _ in options:
            if "(" in label:
                return f"use an ARN of the form '{label.partition('(')[2].rstrip(')')}'"
    return "use \"*\": these actions take no resource ARN"
