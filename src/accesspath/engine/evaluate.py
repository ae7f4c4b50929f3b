"""Evaluate one policy against one request: which statements apply, and why.

A :class:`CompiledPolicy` is built once per policy and reused across requests: its statements
are indexed by action and resource and their conditions compiled. One walk
(:meth:`CompiledPolicy._walk`) visits the statements the index returns and decides which apply;
an explanation is a :class:`StatementTracer` handed to that same walk, which records what it saw
(``tracer is None`` costs one comparison per step). Deciding and explaining cannot disagree
because there is only one walk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accesspath.engine import conditions
from accesspath.engine.conditions import (
    CompiledClause,
    ConditionResult,
    Outcome,
    evaluate_values,
)
from accesspath.engine.principals import GrantKind, match_principal
from accesspath.engine.request import AuthorizationRequest, ContextValue
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

    def evaluate(self, request: AuthorizationRequest, lookup: VariableLookup, *, boundary_attached: bool = False,
                 tracer: StatementTracer | None = None) -> PolicyOutcome:
        """The statements that apply to ``request``. With a ``tracer``, the same walk also records
        every statement's elements (the explanation); without one, it records nothing.

        ``boundary_attached``: the caller has a permissions boundary (it decides NotPrincipal with
        Deny, see principals.py)."""
        candidates = self.candidates(request.action, request.resource)
        if tracer is not None:
            outcome = self._walk(candidates, request, lookup, boundary_attached, tracer)
            return replace(outcome, statements=tracer.traces(self.policy, self._statements, request, lookup))
        if not candidates:
            return self._empty
        static_key: tuple[object, ...] | None = None
        if all(not c.clauses and not c.resource_has_variables for c in candidates):
            static_key = (request.action, request.resource,
                          (request.principal, boundary_attached) if self._takes_principal else None)
            found = self._static.get(static_key)
            if found is not None:
                return found
        outcome = self._walk(candidates, request, lookup, boundary_attached, None)
        if static_key is not None:
            if len(self._static) > _CACHE_LIMIT:
                self._static.clear()
            self._static[static_key] = outcome
        return outcome

    def _walk(self, candidates: tuple[_CompiledStatement, ...], request: AuthorizationRequest,
              lookup: VariableLookup, boundary_attached: bool, tracer: StatementTracer | None) -> PolicyOutcome:
        """The one walk that decides which statements apply (explanations are a tracer over it)."""
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
                if tracer is not None:
                    tracer.skip(compiled, resource_matched=False)
                continue
            grant = None
            if takes_principal:
                grant = match_principal(statement.principal, request.principal, deny=not compiled.is_allow,
                                        boundary_attached=boundary_attached)
                if grant is None:
                    if tracer is not None:
                        tracer.skip(compiled, resource_matched=True, principal="no match")
                    continue
            applies = True
            error = None
            for clause in compiled.clauses:
                entry = context.get(clause.key)
                if entry is None and clause.clause.key not in missing:
                    missing.append(clause.clause.key)
                outcome = evaluate_values(clause, entry, lookup)
                if tracer is not None:
                    tracer.condition(clause, outcome, entry, lookup)
                if outcome is Outcome.FALSE:
                    applies = False
                elif outcome is Outcome.ERROR and error is None:
                    error = f"condition {clause.clause.operator} on '{clause.clause.key}': " \
                            f"{conditions.error_detail(clause, entry, lookup)}"
            if not applies:
                # Every condition must hold (reference_policies_multi-value-conditions.md): one that
                # is false settles it, whatever another could not evaluate.
                if tracer is not None:
                    tracer.done(compiled, grant, False)
                continue
            if error is not None:
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if not compiled.is_allow:
                    denies.append(StatementMatch(policy, statement, grant, error))
                if tracer is not None:
                    tracer.done(compiled, grant, not compiled.is_allow, error=True)
            else:
                (allows if compiled.is_allow else denies).append(StatementMatch(policy, statement, grant))
                if tracer is not None:
                    tracer.done(compiled, grant, True)
        if not (allows or denies or errors or missing) and tracer is None:
            return self._empty
        return PolicyOutcome(policy, tuple(allows), tuple(denies), tuple(errors), tuple(missing), None)


class StatementTracer:
    """Records, for one policy, what the walk saw of each statement (the explanation).

    The walk calls it only when explaining; statements the index left out (their Action or
    Resource does not match) are described afterwards, from the same element checks.
    """

    __slots__ = ("_by_statement", "_conditions")

    def __init__(self) -> None:
        self._by_statement: dict[int, StatementTrace] = {}
        self._conditions: list[ConditionResult] = []

    def condition(self, clause: CompiledClause, outcome: Outcome, entry: ContextValue | None,
                  lookup: VariableLookup) -> None:
        self._conditions.append(conditions.describe(clause, outcome, entry, lookup))

    def skip(self, compiled: _CompiledStatement, *, resource_matched: bool, principal: str | None = None) -> None:
        self._by_statement[id(compiled)] = StatementTrace(compiled.statement, True, resource_matched, principal, (),
                                                          False)

    def done(self, compiled: _CompiledStatement, grant: GrantKind | None, applies: bool, *, error: bool = False) -> None:
        note = ""
        if error:
            note = ("a condition could not be evaluated; the Deny is applied (fail closed)" if applies else
                    "a condition could not be evaluated; the Allow is not applied (fail closed)")
        principal = grant.value if grant is not None else None
        self._by_statement[id(compiled)] = StatementTrace(compiled.statement, True, True, principal,
                                                          tuple(self._conditions), applies, note)
        self._conditions = []

    def traces(self, policy: Policy, compiled: tuple[_CompiledStatement, ...], request: AuthorizationRequest,
               lookup: VariableLookup) -> tuple[StatementTrace, ...]:
        """Every statement of the policy, in order: those the walk visited as it saw them."""
        by_statement = {id(c.statement): c for c in compiled}
        out = []
        for statement in policy.statements:
            found = by_statement.get(id(statement))
            if found is None:
                out.append(StatementTrace(statement, False, None, None, (), False,
                                          "the statement has errors and is not evaluated"))
            elif id(found) in self._by_statement:
                out.append(self._by_statement[id(found)])
            elif not action_matches(statement, request.action):
                out.append(StatementTrace(statement, False, None, None, (), False))
            else:
                out.append(StatementTrace(statement, True, resource_matches(statement, request.resource, lookup),
                                          None, (), False))
        return tuple(out)


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
