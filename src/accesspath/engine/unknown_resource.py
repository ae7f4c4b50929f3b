"""Requests whose resource is not known: which statements could decide differently.

When accesspath cannot tell which resource AWS will check (an operation whose identifiers the
request does not carry, a name the environment does not define), it knows only a pattern of the
ARN (``arn:aws:iam::123456789012:user/*``). The engine then decides the request on ``"*"``, where
only statements whose ``Resource`` is ``"*"`` apply; a statement scoped to resources that *could*
be the real one could change that decision, and the caller must report ``undetermined`` rather
than the answer on ``"*"`` (IAM User Guide, reference_policies_evaluation-logic.md: a request is
evaluated against the resource it names; a Deny or Allow scoped to that resource applies).

:func:`decide_unknown_resource` decides the request on one sample ARN of each alternative of the
pattern (its wildcards filled in): a statement independent of which resource it is gives the same
answer on the sample as on the real resource, so the answer stands when every statement is
independent and the alternatives agree; otherwise the caller reports ``undetermined``.

A statement is independent of the unknown resource when its ``Resource`` matches every ARN of the
pattern (``*``, ``arn:aws:iam::*:user/*``) or none of them (another service's ARN); otherwise it
depends on it. Both checks read ``*`` and ``?`` as IAM does and err towards "depends" (the
segment rules of ARN wildcards are not applied, so a pattern may be taken to overlap more).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from accesspath.engine.authorize import AuthorizationResult, PolicySet, authorize
from accesspath.engine.evaluate import CompiledPolicy, action_matches
from accesspath.engine.request import AuthorizationRequest
from accesspath.policy import Policy

_VARIABLE = re.compile(r"\$\{[^{}]*\}")
_LIMIT = 4096  # characters of either pattern beyond which overlap is assumed (no unbounded work)


def dependent_statements(policies: PolicySet | tuple[Policy, ...], action: str, resource_pattern: str,
                         ) -> tuple[str, ...]:
    """``policy statement`` labels of the statements that apply to ``action`` and whose Resource
    (or NotResource) matches some but maybe not all ARNs of ``resource_pattern``.

    ``resource_pattern`` may hold alternatives separated by `` | ``; ``*`` stands for an unknown part.
    """
    alternatives = alternatives_of(resource_pattern)
    found: list[str] = []
    for policy in _policies(policies):
        for statement in policy.statements:
            if not statement.valid or statement.resource is None or not action_matches(statement, action):
                continue
            texts = [_VARIABLE.sub("*", p.text) for p in statement.resource.patterns]
            if all(_independent(texts, alternative) for alternative in alternatives):
                continue
            found.append(f"{policy.policy_id} {statement.label}")
    return tuple(dict.fromkeys(found))


def alternatives_of(resource_pattern: str) -> list[str]:
    return [p.strip() for p in resource_pattern.split(" | ") if p.strip()] or ["*"]


def sample_of(alternative: str) -> str:
    """One ARN the pattern stands for: each unknown part (``*``, ``?``) filled with ``x``."""
    return alternative.replace("*", "x").replace("?", "x")


def decide_unknown_resource(request: AuthorizationRequest, policies: PolicySet, resource_pattern: str, *,
                            explain: bool = False, also: tuple[Policy, ...] = (),
                            ) -> tuple[AuthorizationResult, tuple[str, ...]]:
    """The decision on a sample of ``resource_pattern``, and what could make the real one differ:
    the labels of dependent statements (of ``policies`` and of the resource policies ``also``), or a
    note that the alternatives of the pattern are decided differently. Empty: the decision stands."""
    alternatives = alternatives_of(resource_pattern)
    results = [authorize(replace(request, resource=sample_of(a)), policies, explain=explain) for a in alternatives]
    dependents = list(dependent_statements(policies, request.action, resource_pattern))
    dependents.extend(dependent_statements(also, request.action, "*"))
    if len({r.decision for r in results}) > 1:
        dependents.append(f"the kinds of resource it may be ({', '.join(alternatives)}) are decided differently")
    # The message is written from the request, so it names the pattern too.
    first = replace(results[0], request=replace(results[0].request, resource=resource_pattern))
    deciding = {f"{m.policy.policy_id} {m.statement.label}" for m in first.deciding_statements}
    if first.decision.value == "explicitDeny" and deciding - set(dependents) and len(results) == 1:
        return first, ()   # a Deny that applies to every resource of the pattern
    return first, tuple(dict.fromkeys(dependents))


def _policies(policies: PolicySet | tuple[Policy, ...]) -> Iterator[Policy]:
    if isinstance(policies, tuple):
        yield from policies
        return
    groups: list[tuple[CompiledPolicy, ...]] = [policies.identity, policies.resource]
    groups.extend(g for g in (policies.permissions_boundary, policies.session, policies.vpc_endpoint) if g)
    for levels in (policies.scps, policies.rcps):
        groups.extend(levels or ())
    for group in groups:
        for compiled in group:
            yield compiled.policy


def _independent(texts: list[str], alternative: str) -> bool:
    if any(covers(text, alternative) for text in texts):
        return True   # matches every ARN of the pattern
    return not any(overlaps(text, alternative) for text in texts)   # matches none


def overlaps(first: str, second: str) -> bool:
    """Whether some string matches both wildcard patterns (``*`` any run, ``?`` one character)."""
    n, m = len(first), len(second)
    if n > _LIMIT or m > _LIMIT:
        return True
    # reachable[i][j]: the suffixes first[i:] and second[j:] can match a common string.
    following = [False] * (m + 1)
    following[m] = True
    for j in range(m - 1, -1, -1):
        following[j] = second[j] == "*" and following[j + 1]
    for i in range(n - 1, -1, -1):
        current = [False] * (m + 1)
        current[m] = first[i] == "*" and following[m]
        for j in range(m - 1, -1, -1):
            a, b = first[i], second[j]
            if a == "*":
                current[j] = following[j] or current[j + 1]
            elif b == "*":
                current[j] = current[j + 1] or following[j]
            else:
                current[j] = (a == b or a == "?" or b == "?") and following[j + 1]
        following = current
    return following[0]


def covers(general: str, specific: str) -> bool:
    """Whether every string matching ``specific`` matches ``general`` (a sufficient check: a
    wildcard of ``specific`` must be absorbed by a ``*`` of ``general``)."""
    n, m = len(general), len(specific)
    if n > _LIMIT or m > _LIMIT:
        return False
    following = [False] * (m + 1)
    following[m] = True
    for i in range(n - 1, -1, -1):
        current = [False] * (m + 1)
        current[m] = general[i] == "*" and following[m]
        for j in range(m - 1, -1, -1):
            a, b = general[i], specific[j]
            if a == "*":
                current[j] = following[j] or current[j + 1]
            elif b in "*?":
                current[j] = a == "?" and b == "?" and following[j + 1]
            else:
                current[j] = (a == b or a == "?") and following[j + 1]
        following = current
    return following[0]
