"""Evaluate one policy against one request: which statements apply, and why.

The fast path indexes a policy's statements by action and resource (a compiled policy is
reused across requests); the explaining path walks every statement and records each element's
outcome. Both call the same element checks, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from accesspath.engine.conditions import ConditionResult, Outcome, evaluate_clause
from accesspath.engine.principals import GrantKind, match_principal
from accesspath.engine.request import AuthorizationRequest
from accesspath.policy.model import Effect, Policy, Statement
from accesspath.policy.patterns import VariableLookup

_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class StatementMatch:
    """A statement that applies to the request."""

    policy: Policy
    statement: Statement
    grant: GrantKind | None   # how its Principal names the caller (policies that take a Principal)
    condition_error: str | None = None  # a Deny that applies because a condition could not be read


@dataclass(frozen=True, slots=True)
class StatementTrace:
    """Why one statement did or did not apply (the explanation's leaf)."""

    statement: Statement
    action_matched: bool
    resource_matched: bool | None     # None when the statement was not reached
    principal: str | None             # grant kind, "no match", or None when not checked
    conditions: tuple[ConditionResult, ...]
    applies: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    policy: Policy
    allows: tuple[StatementMatch, ...]
    denies: tuple[StatementMatch, ...]
    runtime_errors: tuple[str, ...]
    missing_keys: tuple[str, ...]
    statements: tuple[StatementTrace, ...] | None  # only when explaining


class CompiledPolicy:
    """A parsed policy with per-request caches: statements indexed by action and resource."""

    __slots__ = ("policy", "_valid", "_by_action", "_by_request", "_takes_principal")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # Statements with errors are never evaluated; see docs/evaluation.md "Fail closed".
        self._valid = tuple(s for s in policy.statements if s.valid)
        self._by_action: dict[str, tuple[Statement, ...]] = {}
        self._by_request: dict[tuple[str, str], tuple[tuple[Statement, bool], ...]] = {}
        self._takes_principal = policy.policy_type.takes_principal

    def candidates(self, action: str, resource: str) -> tuple[tuple[Statement, bool], ...]:
        """Statements whose Action and (variable-free) Resource match; the flag says the Resource
        holds variables and must still be checked for this request."""
        key = (action, resource)
        found = self._by_request.get(key)
        if found is not None:
            return found
        action_lower = action.lower()
        by_action = self._by_action.get(action_lower)
        if by_action is None:
            by_action = tuple(s for s in self._valid if action_matches(s, action))
            if len(self._by_action) > _CACHE_LIMIT:
                self._by_action.clear()
            self._by_action[action_lower] = by_action
        result: list[tuple[Statement, bool]] = []
        for statement in by_action:
            block = statement.resource
            if block is None:
                result.append((statement, False))
            elif any(p.has_variables for p in block.patterns):
                result.append((statement, True))
            elif resource_matches(statement, resource, None):
                result.append((statement, False))
        found = tuple(result)
        if len(self._by_request) > _CACHE_LIMIT:
            self._by_request.clear()
        self._by_request[key] = found
        return found

    def evaluate(self, request: AuthorizationRequest, lookup: VariableLookup) -> PolicyOutcome:
        allows: list[StatementMatch] = []
        denies: list[StatementMatch] = []
        errors: list[str] = []
        missing: list[str] = []
        policy = self.policy
        for statement, check_resource in self.candidates(request.action, request.resource):
            if check_resource and not resource_matches(statement, request.resource, lookup):
                continue
            grant = None
            if self._takes_principal:
                grant = match_principal(statement.principal, request.principal)
                if grant is None:
                    continue
            applies, error = _conditions_apply(statement, request, lookup, missing)
            if error is not None:
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if statement.effect is Effect.DENY:
                    denies.append(StatementMatch(policy, statement, grant, error))
                continue
            if applies:
                (allows if statement.effect is Effect.ALLOW else denies).append(StatementMatch(policy, statement, grant))
        return PolicyOutcome(policy, tuple(allows), tuple(denies), tuple(errors), tuple(missing), None)

    def explain(self, request: AuthorizationRequest, lookup: VariableLookup) -> PolicyOutcome:
        """The same decision as :meth:`evaluate`, recording every statement's elements."""
        allows: list[StatementMatch] = []
        denies: list[StatementMatch] = []
        errors: list[str] = []
        missing: list[str] = []
        traces: list[StatementTrace] = []
        policy = self.policy
        for statement in policy.statements:
            if not statement.valid:
                traces.append(StatementTrace(statement, False, None, None, (), False,
                                             "the statement has errors and is not evaluated"))
                continue
            if not action_matches(statement, request.action):
                traces.append(StatementTrace(statement, False, None, None, (), False))
                continue
            if not resource_matches(statement, request.resource, lookup):
                traces.append(StatementTrace(statement, True, False, None, (), False))
                continue
            grant = None
            principal_note = None
            if self._takes_principal:
                grant = match_principal(statement.principal, request.principal)
                principal_note = grant.value if grant is not None else "no match"
                if grant is None:
                    traces.append(StatementTrace(statement, True, True, principal_note, (), False))
                    continue
            results = tuple(evaluate_clause(c, request.context, lookup, explain=True)
                            for c in statement.conditions)
            condition_results = tuple(r for r in results if isinstance(r, ConditionResult))
            for r in condition_results:
                if r.request_values is None and r.clause.key not in missing:
                    missing.append(r.clause.key)
            error = next((f"condition {r.clause.operator} on '{r.clause.key}': {r.detail}"
                          for r in condition_results if r.outcome is Outcome.ERROR), None)
            applies = error is None and all(r.outcome is Outcome.TRUE for r in condition_results)
            note = ""
            if error is not None:
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if statement.effect is Effect.DENY:
                    denies.append(StatementMatch(policy, statement, grant, error))
                    applies = True
                    note = "a condition could not be evaluated; the Deny is applied (fail closed)"
                else:
                    note = "a condition could not be evaluated; the Allow is not applied (fail closed)"
            elif applies:
                (allows if statement.effect is Effect.ALLOW else denies).append(StatementMatch(policy, statement, grant))
            traces.append(StatementTrace(statement, True, True, principal_note, condition_results, applies, note))
        return PolicyOutcome(policy, tuple(allows), tuple(denies), tuple(errors), tuple(missing), tuple(traces))


def action_matches(statement: Statement, action: str) -> bool:
    block = statement.action
    matched = any(p.matches(action) for p in block.patterns)
    return matched != block.negated


def resource_matches(statement: Statement, resource: str, lookup: VariableLookup | None) -> bool:
    block = statement.resource
    if block is None:  # role trust policies have no Resource: the role itself
        return True
    matched = any(p.matches(resource, lookup) for p in block.patterns)
    return matched != block.negated


def _conditions_apply(statement: Statement, request: AuthorizationRequest, lookup: VariableLookup,
                      missing: list[str]) -> tuple[bool, str | None]:
    applies = True
    context = request.context
    for clause in statement.conditions:
        if context.get(clause.key_lower) is None and clause.key not in missing:
            missing.append(clause.key)
        outcome = evaluate_clause(clause, context, lookup)
        if outcome is Outcome.ERROR:
            detail = evaluate_clause(clause, context, lookup, explain=True)
            reason = detail.detail if isinstance(detail, ConditionResult) else ""
            return False, f"condition {clause.operator} on '{clause.key}': {reason}"
        if outcome is Outcome.FALSE:
            applies = False
    return applies, None
