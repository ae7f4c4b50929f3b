"""One policy's statements as formulas over a symbolic request: when it allows, when it denies.

This mirrors :mod:`accesspath.engine.evaluate` and :mod:`accesspath.engine.conditions` step by step,
and reuses their concrete parts: the caller and the action are concrete, so Action/NotAction and
Principal/NotPrincipal are decided by the engine's own functions; what stays symbolic is the
resource and the free context keys. Conditions follow reference_policies_elements_condition_
operators.md as the engine implements them, including its fail-closed reading of values an
operator cannot parse (an Allow whose condition cannot be evaluated does not apply; such a Deny
does).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import z3

from accesspath.engine.conditions import CompiledClause, Outcome, compile_clause, evaluate_values
from accesspath.engine.evaluate import action_matches
from accesspath.engine.principals import GrantKind, match_principal
from accesspath.engine.request import RequestPrincipal
from accesspath.policy.model import Effect, Policy, Statement
from accesspath.policy.operators import OPERATORS
from accesspath.policy.patterns import LITERAL, VariableLookup
from accesspath.prove.patterns import FreeVariableLookup, literal_texts_regex, pattern_regex
from accesspath.prove.symbols import BINARY, DATE, IP, NUMERIC, FreeKey, FreeValue, SymbolicContext, Unsupported

TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)


@dataclass(frozen=True)
class SymbolicRequest:
    """A request with a concrete caller and action, a symbolic resource and a symbolic context."""

    principal: RequestPrincipal
    action: str
    resource: z3.SeqRef
    context: SymbolicContext
    lookup: VariableLookup          # values of fixed keys, for policy variables


@dataclass(frozen=True)
class StatementFormula:
    statement: Statement
    policy: Policy
    grant: GrantKind | None
    applies: z3.BoolRef             # the statement is in the outcome's allows (Allow) or denies (Deny)


@dataclass(frozen=True)
class PolicyFormula:
    """When the policy allows and when it denies, statement by statement (for hints and witnesses)."""

    policy: Policy
    allows: tuple[StatementFormula, ...]
    denies: tuple[StatementFormula, ...]

    @property
    def allows_any(self) -> z3.BoolRef:
        return _any(s.applies for s in self.allows)

    @property
    def denies_any(self) -> z3.BoolRef:
        return _any(s.applies for s in self.denies)

    def allows_with(self, grant: GrantKind) -> z3.BoolRef:
        return _any(s.applies for s in self.allows if s.grant is grant)


def encode_policy(policy: Policy, request: SymbolicRequest, *, boundary_attached: bool = False) -> PolicyFormula:
    """The policy's outcome for the symbolic request (only valid statements take part, as in the engine)."""
    from accesspath.environment.unknowns import has_unknowns
    if has_unknowns(policy):
        # Cases decide such policies on their two bounds (space.Case.bounds); one left here is not known.
        raise Unsupported(f"{policy.policy_id} holds values accesspath was not given")
    allows: list[StatementFormula] = []
    denies: list[StatementFormula] = []
    takes_principal = policy.policy_type.takes_principal
    lookup = FreeVariableLookup(request.lookup, request.context.is_fixed)
    for statement in policy.statements:
        if not statement.valid or not action_matches(statement, request.action):
            continue
        grant = None
        if takes_principal:
            grant = match_principal(statement.principal, request.principal, deny=statement.effect is Effect.DENY,
                                    boundary_attached=boundary_attached)
            if grant is None:
                continue
        resource = _resource_matches(statement, request, lookup)
        is_false: list[z3.BoolRef] = []
        is_error: list[z3.BoolRef] = []
        for clause in statement.conditions:
            false_, error = encode_clause(compile_clause(clause), request.context, lookup)
            is_false.append(false_)
            is_error.append(error)
        holds = z3.And(resource, z3.Not(_any(is_false)))
        if statement.effect is Effect.ALLOW:
            allows.append(StatementFormula(statement, policy, grant, z3.simplify(z3.And(holds, z3.Not(_any(is_error))))))
        else:
            denies.append(StatementFormula(statement, policy, grant, z3.simplify(holds)))
    return PolicyFormula(policy, tuple(allows), tuple(denies))


def _resource_matches(statement: Statement, request: SymbolicRequest, lookup: VariableLookup) -> z3.BoolRef:
    block = statement.resource
    if block is None:
        return TRUE
    regexes = [r for p in block.patterns if (r := pattern_regex(p, lookup)) is not None]
    matched = _any(z3.InRe(request.resource, r) for r in regexes)
    return z3.Not(matched) if block.negated else matched


def encode_clause(compiled: CompiledClause, context: SymbolicContext,
                  lookup: VariableLookup) -> tuple[z3.BoolRef, z3.BoolRef]:
    """(the clause is false, the clause cannot be evaluated) for the symbolic context."""
    key = compiled.key
    if context.is_fixed(key):
        outcome = evaluate_values(compiled, context.fixed_value(key), lookup)
        return z3.BoolVal(outcome is Outcome.FALSE), z3.BoolVal(outcome is Outcome.ERROR)
    family = OPERATORS[compiled.clause.base].family
    free = context.free_key(key, family)
    clause = compiled.clause
    present = free.present()
    if compiled.is_null:
        # "true": the key must be absent; "false": present. Several policy values: any.
        wants_absent, wants_present = "true" in clause.parsed, "false" in clause.parsed
        holds = z3.If(present, z3.BoolVal(wants_present), z3.BoolVal(wants_absent))
        return z3.Not(holds), FALSE
    if compiled.if_exists or compiled.set_operator == "ForAllValues":
        missing_outcome = TRUE
    elif compiled.set_operator == "ForAnyValue":
        missing_outcome = FALSE
    else:
        missing_outcome = z3.BoolVal(compiled.negated)
    matcher = _value_matcher(compiled, free, lookup)
    slots = [(free.value_in_use(i), value) for i, value in enumerate(free.values)]
    malformed = [value.malformed if value.malformed is not None else FALSE for _, value in slots]
    matches = [matcher(value) for _, value in slots]
    if compiled.set_operator is None:
        # The engine tests values in order and stops at the first match; a value it cannot read
        # before any match makes the clause an error.
        hit = _any(z3.And(used, z3.Not(bad), m) for (used, _), bad, m in zip(slots, malformed, matches))
        error_terms = []
        for i, ((used, _), bad) in enumerate(zip(slots, malformed)):
            earlier = [z3.Not(matches[j]) for j in range(i)]
            error_terms.append(z3.And(used, bad, *earlier))
        # Several values (a list) without a set operator cannot be evaluated (engine/conditions.py,
        # MULTIVALUED_WITHOUT_SET_OPERATOR); requests carry a list exactly when they hold several values.
        error = z3.Or(_any(error_terms), free.count >= 2)
        holds = z3.Xor(hit, z3.BoolVal(compiled.negated))
    else:
        # Every value is read (any unreadable value is an error); per value, the operator holds when it
        # matches (or, negated, matches nothing); ForAllValues needs every value, ForAnyValue one.
        error = _any(z3.And(used, bad) for (used, _), bad in zip(slots, malformed))
        per_value = [z3.Xor(m, z3.BoolVal(compiled.negated)) for m in matches]
        if compiled.set_operator == "ForAllValues":
            holds = z3.And(*[z3.Implies(used, v) for (used, _), v in zip(slots, per_value)]) if slots else TRUE
        else:
            holds = _any(z3.And(used, v) for (used, _), v in zip(slots, per_value))
    outcome_false = z3.If(present, z3.And(z3.Not(error), z3.Not(holds)), z3.Not(missing_outcome))
    outcome_error = z3.And(present, error)
    return outcome_false, outcome_error


def _value_matcher(compiled: CompiledClause, free: FreeKey, lookup: VariableLookup):  # type: ignore[no-untyped-def]
    """A function from one free value to "it matches one of the clause's policy values"."""
    clause = compiled.clause
    family = OPERATORS[clause.base].family
    if family in ("string", "arn", "bool"):
        patterns = clause.patterns
        if all(not p.has_variables for p in patterns) and all(p.mode == LITERAL for p in patterns):
            fold = patterns[0].ignore_case if patterns else False
            texts = [p.render(None) or "" for p in patterns]
            if not texts:
                return lambda value: FALSE
            if fold and any("i\u0307" in t.lower() for t in texts):
                raise Unsupported("a case-insensitive policy value holding 'i' with a combining dot")
            region = literal_texts_regex([t.lower() if fold else t for t in texts], fold=fold)
            return lambda value: z3.InRe(value.text, region)
        if family == "bool":
            # The engine reads the request value stripped and lowercased here: not expressible.
            raise Unsupported(f"a Bool condition on '{clause.key}' with a policy variable")
        regexes = [r for p in patterns if (r := pattern_regex(p, lookup)) is not None]
        return lambda value: _any(z3.InRe(value.text, r) for r in regexes)
    if family in (NUMERIC, DATE):
        comparison = OPERATORS[clause.base].comparison
        constants = [_real(v) for v in clause.parsed]
        compare = {"equals": lambda a, b: a == b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
                   "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b}[comparison]
        return lambda value: _any(compare(value.number, c) for c in constants)
    if family == IP:
        networks = list(clause.parsed)
        return lambda value: _any(_in_network(value, n) for n in networks)  # type: ignore[arg-type]
    if family == BINARY:
        blobs = [z3.StringVal(bytes(b).decode("latin-1")) for b in clause.parsed]  # type: ignore[call-overload]
        return lambda value: _any(value.text == b for b in blobs)
    raise Unsupported(f"the operator '{clause.operator}'")


def _real(value: object) -> z3.ArithRef:
    if isinstance(value, Decimal):
        return z3.RealVal(str(value))
    if isinstance(value, float):
        return z3.RealVal(repr(value))
    return z3.RealVal(str(value))


def _in_network(value: FreeValue, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> z3.BoolRef:
    assert value.address is not None and value.is_v6 is not None
    width = 32 if network.version == 4 else 128
    prefix = network.prefixlen
    base = int(network.network_address)
    if width == 32:
        address = z3.Extract(31, 0, value.address)
        version = z3.Not(value.is_v6)
    else:
        address = value.address
        version = value.is_v6
    if prefix == 0:
        return version
    high = width - 1
    low = width - prefix
    return z3.And(version, z3.Extract(high, low, address) == z3.BitVecVal(base >> low, prefix))


def _any(terms: object) -> z3.BoolRef:
    items = list(terms)  # type: ignore[call-overload]
    if not items:
        return FALSE
    return items[0] if len(items) == 1 else z3.Or(*items)


def all_of(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return TRUE if not terms else terms[0] if len(terms) == 1 else z3.And(*terms)


def any_of(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return _any(terms)
