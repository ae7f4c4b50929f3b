"""Evaluate one policy against one request: which statements apply, and why.

A :class:`CompiledPolicy` is built once per policy and reused across requests: its statements
are indexed by action and resource and their conditions compiled. One walk
(:meth:`CompiledPolicy._walk`) visits the statements the index returns and decides which apply;
an explanation is a :class:`StatementTracer` handed to that same walk, which records what it saw
(``tracer is None`` costs one comparison per step). Deciding and explaining cannot disagree
because there is only one walk.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import deque
from collections.abc import Callable
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
from accesspath.policy.patterns import Pattern, VariableLookup

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


class _CompiledStatement:
    """One statement flattened for the walk: what it needs per request, precomputed."""

    __slots__ = ("clauses", "is_allow", "principal", "resource_has_variables", "resource_match",
                 "resource_negated", "resource_plain", "resource_variable", "statement")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.clauses = tuple(conditions.compile_clause(c) for c in statement.conditions)
        self.is_allow = statement.effect is Effect.ALLOW
        self.principal = statement.principal
        block = statement.resource
        patterns = block.patterns if block is not None else ()
        self.resource_negated = block is not None and block.negated
        # The Resource element's patterns without variables as one regex match in C (alternatives),
        # those with variables matched per request; no test at all when it matches everything.
        self.resource_variable = tuple(p for p in patterns if p.has_variables)
        self.resource_has_variables = bool(self.resource_variable)
        static = tuple(p for p in patterns if not p.has_variables)
        self.resource_match: Callable[[str], object] | None
        if block is None or any(p.is_match_all for p in static):
            self.resource_variable = ()
            self.resource_match = _matches_any if self.resource_negated else None
        elif static:
            self.resource_match = _one_regex(static)
        else:
            self.resource_match = _matches_none
        # Only patterns without variables, not negated: the one regex decides.
        self.resource_plain = not self.resource_variable and not self.resource_negated

    def resource_applies(self, resource: str, lookup: VariableLookup) -> bool:
        """Whether the Resource (or NotResource) element lets the statement apply to ``resource``."""
        match = self.resource_match
        if match is None:
            return True
        matched = match(resource) is not None
        if not matched:
            for pattern in self.resource_variable:
                if pattern.matches(resource, lookup):
                    matched = True
                    break
        return matched != self.resource_negated


def _matches_any(value: str) -> bool:
    return True


def _matches_none(value: str) -> None:
    return None


def _one_regex(patterns: tuple[Pattern, ...]) -> Callable[[str], object]:
    """The patterns' static matchers joined into one ``fullmatch``.

    Each pattern's regex is the linear form built in policy/patterns.py; alternatives of linear
    patterns stay linear in the value (times the number of patterns)."""
    sources = []
    flags = 0
    for pattern in patterns:
        regex = getattr(pattern._static, "__self__", None)
        if not isinstance(regex, re.Pattern):  # not a regex matcher: ask each pattern
            return lambda value: True if any(p.matches(value) for p in patterns) else None
        sources.append(regex.pattern)
        flags = regex.flags
    if len(sources) == 1:
        return patterns[0]._static  # type: ignore[return-value]
    return re.compile("|".join(f"(?:{source})" for source in sources), flags).fullmatch


class CompiledPolicy:
    """A parsed policy with its statements compiled and indexed by action.

    Compiled once per process and shared (:func:`compile_policy`): the index fills as actions are
    asked and is bounded."""

    __slots__ = (
        "__weakref__",
        "_by_action",
        "_empty",
        "_statements",
        "_takes_principal",
        "is_valid",
        "policy",
    )

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.is_valid = policy.is_valid
        # Statements with errors are never evaluated; see docs/evaluation.md "Fail closed".
        self._statements = tuple(_CompiledStatement(s) for s in policy.statements if s.valid)
        self._by_action: dict[str, tuple[_CompiledStatement, ...]] = {}
        self._takes_principal = policy.policy_type.takes_principal
        self._empty = PolicyOutcome(policy, (), (), (), (), None)

    def by_action(self, action: str) -> tuple[_CompiledStatement, ...]:
        """Statements whose Action (or NotAction) matches ``action``; Resource not yet checked."""
        found = self._by_action.get(action)
        if found is None:
            found = tuple(c for c in self._statements if action_matches(c.statement, action))
            if len(self._by_action) >= _CACHE_LIMIT:
                self._by_action.clear()
            self._by_action[action] = found
        return found

    def candidates(self, action: str, resource: str) -> tuple[_CompiledStatement, ...]:
        """Statements whose Action matches and whose Resource matches or holds variables."""
        return tuple(c for c in self.by_action(action) if c.resource_has_variables
                     or resource_matches(c.statement, resource, None))

    def evaluate(self, request: AuthorizationRequest, lookup: VariableLookup, *, boundary_attached: bool = False,
                 tracer: StatementTracer | None = None) -> PolicyOutcome:
        """The statements that apply to ``request``. With a ``tracer``, the same walk also records
        every statement's elements (the explanation); without one, it records nothing.

        ``boundary_attached``: the caller has a permissions boundary (it decides NotPrincipal with
        Deny, see principals.py)."""
        outcome = self._walk(request, lookup, boundary_attached, tracer)
        if tracer is not None:
            return replace(outcome, statements=tracer.traces(self.policy, self._statements, request, lookup))
        return outcome

    def _walk(self, request: AuthorizationRequest, lookup: VariableLookup, boundary_attached: bool,
              tracer: StatementTracer | None) -> PolicyOutcome:
        """The one walk that decides which statements apply (explanations are a tracer over it)."""
        candidates = self._by_action.get(request.action)
        if candidates is None:
            candidates = self.by_action(request.action)
        if not candidates:
            return self._empty
        allows: list[StatementMatch] | None = None
        denies: list[StatementMatch] | None = None
        errors: list[str] | None = None
        missing: list[str] | None = None
        policy = self.policy
        get = request.context.get
        resource = request.resource
        for compiled in candidates:
            statement = compiled.statement
            match = compiled.resource_match
            if match is not None and (match(resource) is None if compiled.resource_plain
                                      else not compiled.resource_applies(resource, lookup)):
                if tracer is not None:
                    tracer.skip(compiled, resource_matched=False)
                continue
            grant = None
            if self._takes_principal:
                grant = match_principal(compiled.principal, request.principal, deny=not compiled.is_allow,
                                        boundary_attached=boundary_attached)
                if grant is None:
                    if tracer is not None:
                        tracer.skip(compiled, resource_matched=True, principal="no match")
                    continue
            applies = True
            error = None
            for clause in compiled.clauses:
                entry = get(clause.key)
                if entry is None:
                    key = clause.clause.key
                    if missing is None:
                        missing = [key]
                    elif key not in missing:
                        missing.append(key)
                    outcome = clause.absent
                elif clause.plain and not entry.multivalued and len(entry.values) == 1:
                    # One value, no set operator: what evaluate_values does, without the call.
                    try:
                        outcome = TRUE if clause.match(entry.values[0], lookup) != clause.negated else FALSE
                    except ValueError:
                        outcome = ERROR
                else:
                    outcome = evaluate_values(clause, entry, lookup)
                if tracer is not None:
                    tracer.condition(clause, outcome, entry, lookup)
                if outcome is FALSE:
                    applies = False
                elif outcome is ERROR and error is None:
                    error = f"condition {clause.clause.operator} on '{clause.clause.key}': " \
                            f"{conditions.error_detail(clause, entry, lookup)}"
            if not applies:
                # Every condition must hold (reference_policies_multi-value-conditions.md): one that
                # is false settles it, whatever another could not evaluate.
                if tracer is not None:
                    tracer.done(compiled, grant, False)
                continue
            if error is not None:
                if errors is None:
                    errors = []
                errors.append(f"{policy.policy_id} {statement.label}: {error}")
                if not compiled.is_allow:
                    if denies is None:
                        denies = []
                    denies.append(StatementMatch(policy, statement, grant, error))
                if tracer is not None:
                    tracer.done(compiled, grant, not compiled.is_allow, error=True)
            else:
                if compiled.is_allow:
                    if allows is None:
                        allows = []
                    allows.append(StatementMatch(policy, statement, grant))
                else:
                    if denies is None:
                        denies = []
                    denies.append(StatementMatch(policy, statement, grant))
                if tracer is not None:
                    tracer.done(compiled, grant, True)
        if allows is None and denies is None and errors is None and missing is None and tracer is None:
            return self._empty
        return PolicyOutcome(policy, tuple(allows or ()), tuple(denies or ()), tuple(errors or ()),
                             tuple(missing or ()), None)


TRUE = Outcome.TRUE
FALSE = Outcome.FALSE
ERROR = Outcome.ERROR

# Compiled policies shared by every policy set of the process that holds the same parsed policy
# (parsed policies are immutable): one compiled object, one index. An entry lives while a policy
# set holds its compiled policy, and the most recently compiled are kept a while longer, so that
# questions asked one after another (an audit's) do not compile the same policies again.
_SHARED: weakref.WeakValueDictionary[int, CompiledPolicy] = weakref.WeakValueDictionary()
_RECENT: deque[CompiledPolicy] = deque(maxlen=2048)
_SHARED_LOCK = threading.Lock()


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The process's compiled form of ``policy`` (compiled on first use)."""
    found = _SHARED.get(id(policy))
    if found is not None and found.policy is policy:
        return found
    with _SHARED_LOCK:
        found = _SHARED.get(id(policy))
        if found is not None and found.policy is policy:
            return found
        compiled = CompiledPolicy(policy)
        # The key stays valid: the compiled policy holds the policy, so its id is not reused.
        _SHARED[id(policy)] = compiled
        _RECENT.append(compiled)
        return compiled


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
