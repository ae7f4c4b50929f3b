"""Evaluate condition clauses against the request context.

Source: reference_policies_elements_condition_operators.md and
reference_policies_condition-single-vs-multi-valued-context-keys:
- a key missing from the request makes the condition false, except negated operators (true),
  ``...IfExists`` (true), ``ForAllValues:`` (true) and ``Null``; ``ForAnyValue:`` is false;
- several policy values: any may match (OR); negated operators hold when none matches (NOR);
- ``ForAllValues:`` every request value must satisfy the operator, ``ForAnyValue:`` at least one;
- a list of request values (a multivalued key) under an operator without a set operator cannot be
  evaluated (see MULTIVALUED_WITHOUT_SET_OPERATOR).

Each clause is compiled once into a :class:`CompiledClause` whose ``match`` tests one request
value against all policy values (a set lookup where the values are plain strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from typing import Any

from accesspath.engine.request import ContextValue, RequestContext
from accesspath.policy.model import ConditionClause
from accesspath.policy.operators import OPERATORS, REQUEST_VALUE_PARSERS
from accesspath.policy.patterns import LITERAL, Pattern, VariableLookup


class Outcome(str, Enum):
    TRUE = "true"
    FALSE = "false"
    ERROR = "error"   # a request value the operator cannot read; never turned into an allow


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One clause's evaluation, for explanations."""

    clause: ConditionClause
    outcome: Outcome
    request_values: tuple[str, ...] | None   # None: the key is missing from the request
    policy_values: tuple[str, ...]            # after variable substitution
    detail: str = ""


# Four decimal octets without leading zeros (what ipaddress reads as IPv4), surrounding blanks allowed
# as parse_address strips them.
_DOTTED_QUAD = re.compile(r"\s*(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\s*").fullmatch

# Tests one request value against every policy value of a clause: True when any matches.
Matcher = Callable[[str, "VariableLookup | None"], bool]


@dataclass(frozen=True, slots=True)
class CompiledClause:
    clause: ConditionClause
    key: str                 # lowercased
    negated: bool
    is_null: bool
    set_operator: str | None
    if_exists: bool
    match: Matcher
    absent: Outcome          # the outcome when the request does not have the key
    plain: bool = False      # no set operator and not Null: one request value, one match


def compile_clause(clause: ConditionClause) -> CompiledClause:
    spec = OPERATORS[clause.base]
    compiled = CompiledClause(clause, clause.key_lower, spec.negated, spec.family == "null", clause.set_operator,
                              clause.if_exists, _shared_matcher(clause), Outcome.ERROR,
                              clause.set_operator is None and spec.family != "null")
    # Computed by the same rule as for a request (evaluate_values), set in place of the placeholder
    # before anyone sees the object.
    object.__setattr__(compiled, "absent", evaluate_values(compiled, None, None))
    return compiled


def _shared_matcher(clause: ConditionClause) -> Matcher:
    """The matcher of equal clause values, built once (values and patterns are immutable)."""
    try:
        return _matcher_of(clause.base, clause.patterns, clause.parsed)
    except TypeError:  # a value that cannot be a key
        return _matcher(clause)


@lru_cache(maxsize=4096)
def _matcher_of(base: str, patterns: tuple[Pattern, ...], parsed: tuple[object, ...]) -> Matcher:
    return _matcher(replace(_MATCHER_CLAUSE, base=base, patterns=patterns, parsed=parsed))


# Only the operator and the values decide a matcher: the rest of a clause is filler here.
_MATCHER_CLAUSE = ConditionClause("StringEquals", "StringEquals", None, False, "aws:x", (), (), (), None)


def _matcher(clause: ConditionClause) -> Matcher:
    spec = OPERATORS[clause.base]
    family = spec.family
    if family in ("string", "arn", "bool"):
        patterns = clause.patterns
        lower_input = family == "bool"
        if all(not p.has_variables for p in patterns) and all(p.mode == LITERAL for p in patterns):
            # Plain strings: a set lookup (IgnoreCase and Bool compare lowercased text, character by
            # character: 'ß' does not equal 'SS').
            fold = patterns[0].ignore_case if patterns else False
            texts = [p.render(None) or "" for p in patterns]
            values = frozenset(t.lower() if fold else t for t in texts)
            if fold:
                return lambda value, lookup: value.lower() in values
            return lambda value, lookup: value in values
        if lower_input:
            return lambda value, lookup: any(p.matches(value.strip().lower(), lookup) for p in patterns)
        if len(patterns) == 1:
            only = patterns[0]
            return lambda value, lookup: only.matches(value, lookup)
        return lambda value, lookup: any(p.matches(value, lookup) for p in patterns)
    parse = REQUEST_VALUE_PARSERS.get(family)
    parsed = clause.parsed
    if family == "ip":
        networks: tuple[Any, ...] = tuple(parsed)  # type: ignore[arg-type]
        # IPv4 ranges as (network, mask) integers: a plain dotted quad is read without the
        # ipaddress module, anything else (IPv6, odd forms, errors) by parse_address as before.
        v4 = tuple((int(n.network_address), int(n.netmask)) for n in networks if n.version == 4)

        def match_ip(value: str, lookup: VariableLookup | None) -> bool:
            quad = _DOTTED_QUAD(value)
            if quad is not None:
                a, b, c, d = (int(octet) for octet in quad.groups())
                if a < 256 and b < 256 and c < 256 and d < 256:
                    number = (a << 24) | (b << 16) | (c << 8) | d
                    return any(number & mask == network for network, mask in v4)
            address = parse(value)  # type: ignore[misc]
            return any(address.version == n.version and address in n for n in networks)  # type: ignore[union-attr]
        return match_ip
    if family == "binary":
        return lambda value, lookup: parse(value) in parsed  # type: ignore[misc]
    if family == "null":
        return lambda value, lookup: False
    comparison = spec.comparison
    compare: Callable[[object, object], bool] = {
        "equals": lambda a, b: a == b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,  # type: ignore[operator]
        "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,  # type: ignore[operator]
    }[comparison]

    def match_ordered(value: str, lookup: VariableLookup | None) -> bool:
        number = parse(value)  # type: ignore[misc]
        return any(compare(number, p) for p in parsed)
    return match_ordered


def evaluate(compiled: CompiledClause, context: RequestContext, lookup: VariableLookup | None) -> Outcome:
    """The clause's outcome for this request."""
    return evaluate_values(compiled, context.get(compiled.key), lookup)


def evaluate_values(compiled: CompiledClause, entry: ContextValue | None, lookup: VariableLookup | None) -> Outcome:
    """The clause's outcome given the request's entry for its key (None when missing)."""
    values = entry.values if entry is not None else ()
    if not values:
        if compiled.is_null:
            # "true": the key must be absent; "false": it must be present. Several values: any.
            return Outcome.TRUE if "true" in compiled.clause.parsed else Outcome.FALSE
        if compiled.if_exists or compiled.set_operator == "ForAllValues":
            return Outcome.TRUE
        if compiled.set_operator == "ForAnyValue":
            return Outcome.FALSE
        return Outcome.TRUE if compiled.negated else Outcome.FALSE
    if compiled.is_null:
        return Outcome.TRUE if "false" in compiled.clause.parsed else Outcome.FALSE
    match = compiled.match
    try:
        if compiled.set_operator is None:
            if entry.multivalued:  # type: ignore[union-attr]
                # A list of values needs ForAnyValue/ForAllValues: see MULTIVALUED_WITHOUT_SET_OPERATOR.
                return Outcome.ERROR
            hit = False
            for value in values:
                if match(value, lookup):
                    hit = True
                    break
            return Outcome.TRUE if hit != compiled.negated else Outcome.FALSE
        # Per request value, the operator holds when it matches (positive) or matches nothing (negated).
        negated = compiled.negated
        holds = [match(value, lookup) != negated for value in values]
    except ValueError:
        return Outcome.ERROR
    ok = all(holds) if compiled.set_operator == "ForAllValues" else any(holds)
    return Outcome.TRUE if ok else Outcome.FALSE


# Why a condition without a set operator cannot be evaluated against a list of request values.
# reference_policies_condition-single-vs-multi-valued-context-keys.md: "Multivalued context keys
# require a condition set operator"; the guide does not say how such a condition evaluates, so it
# is read as one that cannot be evaluated: an Allow does not apply, a Deny does (docs/evaluation.md).
MULTIVALUED_WITHOUT_SET_OPERATOR = ("the request has a list of values for this key and the operator has no"
                                    " ForAnyValue:/ForAllValues: (AWS requires a set operator for multivalued"
                                    " keys; the condition cannot be evaluated)")


def error_detail(compiled: CompiledClause, entry: ContextValue | None, lookup: VariableLookup | None) -> str:
    """Why :func:`evaluate_values` found the clause could not be evaluated."""
    if entry is None:
        return ""
    if compiled.set_operator is None and entry.multivalued and not compiled.is_null:
        return MULTIVALUED_WITHOUT_SET_OPERATOR
    for value in entry.values:
        try:
            compiled.match(value, lookup)
        except ValueError as error:
            return str(error)
    return ""


def explain(compiled: CompiledClause, context: RequestContext, lookup: VariableLookup | None) -> ConditionResult:
    """The same outcome as :func:`evaluate`, with the values on both sides."""
    entry = context.get(compiled.key)
    return describe(compiled, evaluate_values(compiled, entry, lookup), entry, lookup)


def describe(compiled: CompiledClause, outcome: Outcome, entry: ContextValue | None,
             lookup: VariableLookup | None) -> ConditionResult:
    """A clause's outcome with the values on both sides (for explanations)."""
    request_values = entry.values if entry is not None and entry.values else None
    clause = compiled.clause
    detail = error_detail(compiled, entry, lookup) if outcome is Outcome.ERROR else ""
    if clause.patterns:
        policy_values = tuple(p.render(lookup) or f"{p.text} (variable has no value)" for p in clause.patterns)
    else:
        policy_values = clause.values
    return ConditionResult(clause, outcome, request_values, policy_values, detail)


