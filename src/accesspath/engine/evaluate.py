"""Evaluate one policy against one request: which statements apply, and why.

A :class:`CompiledPolicy` is built once per policy and reused across requests: its statements
are indexed by action and resource and their conditions compiled. The fast path
(:meth:`CompiledPolicy.evaluate`) visits only the statements the index returns; the explaining
path (:meth:`CompiledPolicy.explain`) walks every statement and records each element's outcome.
Both use the same element checks and the same compiled conditions, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from accesspath.engine import conditions
from accesspath.engine.conditions import (
    CompiledClause,
    ConditionResult,
    Outcome,
    evaluate_values,
)
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


@dataclass(frozen=True, slots=True)
class _CompiledStatement:
    statement: Statement
    clauses: tuple[CompiledClause, ...]
    is_allow: bool
    resource_has_variables: bool


class CompiledPolicy:
    """A parsed policy with its statements compiled and indexed by action and resource."""

    __slots__ = (
        "_by_action",
        "_by_request",
        "_empty",
        "_statements",
        "_static",
        "_takes_principal",
        "is_valid",
        "policy",
    )

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.is_valid = policy.is_valid
        # Statements with errors are never evaluated; see docs/evaluation.md "Fail closed".
        self._statements = tuple(
            _CompiledStatement(s, tuple(conditions.compile_clause(c) for c in s.conditions),
                               s.effect is Effect.ALLOW,
                               s.resource is not None and any(p.has_variables for p in s.resource.patterns))
            for s in policy.statements if s.valid)
        self._by_action: dict[str, tuple[_CompiledStatement, ...]] = {}
        self._by_request: dict[tuple[str, str], tuple[_CompiledStatement, ...]] = {}
        self._takes_principal = policy.policy_type.takes_principal
        self._empty = PolicyOutcome(policy, (), (), (), (), None)
        # Outcomes of requests whose candidate statements have no conditions and no variables: they
        # depend only on the action, the resource and (for policies with a Principal) the caller.
        self._static: dict[tuple[object, ...], PolicyOutcome] = {}

    def candidates(self, action: str, resource: str) -> tuple[_CompiledStatement, ...]:
        """Statements whose Action matches and whose Resource matches or holds variables."""
        key = (action, resource)
        found = self._by_request.get(key)
        if found is not None:
            return found
        action_lower = action.lower()
        by_action = self._by_action.get(action_lower)
        if by_action is None:
            by_action = tuple(c for c in self._statements if action_matches(c.statement, action))
            if len(self._by_action) > _CACHE_LIMIT:
                self._by_action.clear()
            self._by_action[action_lower] = by_action
        found = tuple(c for c in by_action
                      if c.resource_has_variables or resource_matches(c.statement, resource, None))
        if len(self._by_request) > _CACHE_LIMIT:
            self._by_request.clear()
        self._by_request[key] = found
        return found

    def evaluate(self, request: AuthorizationRequest, lookup: VariableLookup) -> PolicyOutcome:
        candidates = self.candidates(request.action, request.resource)
        if not candidates:
            return self._empty
        static_key: tuple[object, ...] | None = None
        if all(not c.clauses and not c.resource_has_variables for c in candidates):
            static_key = (request.action, request.resource, request.principal if self._takes_principal else None)
            found = self._static.get(static_key)
            if found is not None:
                return found
        outcome = self._evaluate(candidates, request, lookup)
        if static_key is not None:
            if len(self._static) > _CACHE_LIMIT:
                self._static.clear()
            self._static[static_key] = outcome
        return outcome

    def _evaluate(self, candidates: tuple[_CompiledStatement, ...], request: AuthorizationRequest,
                  lookup: VariableLookup) -> PolicyOutcome:
        allows: list[StatementMatch] = []
        denies: list[StatementMatch] = []
        errors: list[str] = []
        missing: list[str] = []
        policy = self.policy
        context = request.context
        resource = request.resource
        takes_principal = self._takes_principal
        for compiled in candidates:
            statement = compiled.statement
            if compiled.resource_has_variables and not resource_matches(statement, resource, lookup):
                continue
            grant = None
            if takes_principal:
                grant = match_principal(statement.principal, request.principal, deny=statement.effect is Effect.DENY)
                if grant is None:
                    continue
            applies = True
            error = None
            for clause in compiled.clauses:
                entry = context.get(clause.key)
                if entry is None and clause.clause.key not in missing:
                    missing.append(clause.clause.key)
                outcome = evaluate_values(clause, entry, lookup)
                if outcome is Outcome.FALSE:
                    applies = False
                elif outcome is Outcome.ERROR and error is None:
                    error = _error_text(conditions.explain(clause, context, lookup))
            if not applies:
                # Every condition must hold (reference_policies_multi-value-conditions.md): one that
                # is false settles it, whatever another could not evaluate.
                continue
            if error is not None:
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if not compiled.is_allow:
                    denies.append(StatementMatch(policy, statement, grant, error))
            else:
                (allows if compiled.is_allow else denies).append(StatementMatch(policy, statement, grant))
        if not (allows or denies or errors or missing):
            return self._empty
        return PolicyOutcome(policy, tuple(allows), tuple(denies), tuple(errors), tuple(missing), None)

    def explain(self, request: AuthorizationRequest, lookup: VariableLookup) -> PolicyOutcome:
        """The same decision as :meth:`evaluate`, recording every statement's elements."""
        allows: list[StatementMatch] = []
        denies: list[StatementMatch] = []
        errors: list[str] = []
        missing: list[str] = []
        traces: list[StatementTrace] = []
        policy = self.policy
        compiled_by_statement = {id(c.statement): c for c in self._statements}
        for statement in policy.statements:
            compiled = compiled_by_statement.get(id(statement))
            if compiled is None:
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
                grant = match_principal(statement.principal, request.principal, deny=statement.effect is Effect.DENY)
                principal_note = grant.value if grant is not None else "no match"
                if grant is None:
                    traces.append(StatementTrace(statement, True, True, principal_note, (), False))
                    continue
            results = tuple(conditions.explain(c, request.context, lookup) for c in compiled.clauses)
            for r in results:
                if request.context.get(r.clause.key_lower) is None and r.clause.key not in missing:
                    missing.append(r.clause.key)
            failed = next((r for r in results if r.outcome is Outcome.ERROR), None)
            if any(r.outcome is Outcome.FALSE for r in results):
                failed = None  # a false condition settles it (see evaluate)
                applies = False
            else:
                applies = failed is None
            note = ""
            if failed is not None:
                error = _error_text(failed)
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if compiled.is_allow:
                    note = "a condition could not be evaluated; the Allow is not applied (fail closed)"
                else:
                    denies.append(StatementMatch(policy, statement, grant, error))
                    applies = True
                    note = "a condition could not be evaluated; the Deny is applied (fail closed)"
            elif applies:
                (allows if compiled.is_allow else denies).append(StatementMatch(policy, statement, grant))
            traces.append(StatementTrace(statement, True, True, principal_note, results, applies, note))
        return PolicyOutcome(policy, tuple(allows), tuple(denies), tuple(errors), tuple(missing), tuple(traces))


def _error_text(result: ConditionResult) -> str:
    return f"condition {result.clause.operator} on '{result.clause.key}': {result.detail}"


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
