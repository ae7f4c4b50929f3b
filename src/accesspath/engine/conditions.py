"""Evaluate one condition clause against the request context.

Source: reference_policies_elements_condition_operators.md and
reference_policies_condition-single-vs-multi-valued-context-keys:
- a key missing from the request makes the condition false, except negated operators (true),
  ``...IfExists`` (true), ``ForAllValues:`` (true) and ``Null``; ``ForAnyValue:`` is false;
- several policy values: any may match (OR); negated operators hold when none matches (NOR);
- ``ForAllValues:`` every request value must satisfy the operator, ``ForAnyValue:`` at least one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from accesspath.policy.model import ConditionClause
from accesspath.policy.operators import OPERATORS, REQUEST_VALUE_PARSERS, OperatorSpec
from accesspath.policy.patterns import VariableLookup
from accesspath.engine.request import RequestContext


class Outcome(str, Enum):
    TRUE = "true"
    FALSE = "false"
    ERROR = "error"   # a request value the operator cannot read; never turned into an allow


@dataclass(frozen=True, slots=True)
class ConditionResult:
    clause: ConditionClause
    outcome: Outcome
    request_values: tuple[str, ...] | None   # None: the key is missing from the request
    policy_values: tuple[str, ...]            # after variable substitution (None-valued dropped)
    detail: str = ""


def evaluate_clause(clause: ConditionClause, context: RequestContext, lookup: VariableLookup | None,
                    *, explain: bool = False) -> ConditionResult | Outcome:
    """The clause's outcome; a full :class:`ConditionResult` when ``explain`` is set."""
    spec = OPERATORS[clause.base]
    entry = context.get(clause.key_lower)
    values = entry.values if entry is not None else ()
    missing = not values

    if spec.family == "null":
        # "true": the key must be absent; "false": it must be present. Several values: any.
        outcome = Outcome.TRUE if any((v == "true") == missing for v in clause.parsed) else Outcome.FALSE
        return _result(clause, outcome, None if missing else values, clause.values, explain)

    if missing:
        if clause.if_exists or clause.set_operator == "ForAllValues":
            outcome = Outcome.TRUE
        elif clause.set_operator == "ForAnyValue":
            outcome = Outcome.FALSE
        else:
            outcome = Outcome.TRUE if spec.negated else Outcome.FALSE
        return _result(clause, outcome, None, clause.values, explain)

    try:
        matches = [_matches_any(spec, clause, value, lookup) for value in values]
    except ValueError as error:
        return _result(clause, Outcome.ERROR, values, clause.values, explain, str(error))

    # Per request value, the operator holds when it matches (positive) or matches nothing (negated).
    holds = [m != spec.negated for m in matches]
    if clause.set_operator == "ForAllValues":
        ok = all(holds)
    elif clause.set_operator == "ForAnyValue":
        ok = any(holds)
    elif spec.negated:
        ok = not any(matches)
    else:
        ok = any(matches)
    outcome = Outcome.TRUE if ok else Outcome.FALSE
    if not explain:
        return outcome
    return ConditionResult(clause, outcome, values, _rendered_policy_values(clause, lookup))


def _result(clause: ConditionClause, outcome: Outcome, request_values: tuple[str, ...] | None,
            policy_values: tuple[str, ...], explain: bool, detail: str = "") -> ConditionResult | Outcome:
    if not explain:
        return outcome
    return ConditionResult(clause, outcome, request_values, policy_values, detail)


def _rendered_policy_values(clause: ConditionClause, lookup: VariableLookup | None) -> tuple[str, ...]:
    if not clause.patterns:
        return clause.values
    rendered = []
    for pattern in clause.patterns:
        text = pattern.render(lookup)
        rendered.append(text if text is not None else f"{pattern.text} (variable has no value)")
    return tuple(rendered)


def _matches_any(spec: OperatorSpec, clause: ConditionClause, request_value: str,
                 lookup: VariableLookup | None) -> bool:
    """Does one request value match any policy value (before negation)?"""
    family = spec.family
    if family in ("string", "arn"):
        return any(p.matches(request_value, lookup) for p in clause.patterns)
    if family == "bool":
        lowered = request_value.strip().lower()
        return any(p.matches(lowered, lookup) for p in clause.patterns)
    parsed_request = REQUEST_VALUE_PARSERS[family](request_value)
    if family == "ip":
        address = parsed_request
        return any(_in_network(address, network) for network in clause.parsed)
    if family == "binary":
        return any(parsed_request == policy for policy in clause.parsed)
    return any(_compare(spec.comparison, parsed_request, policy) for policy in clause.parsed)


def _in_network(address: object, network: object) -> bool:
    assert isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network))
    assert isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address))
    return address.version == network.version and address in network


def _compare(comparison: str, request: Decimal | float, policy: object) -> bool:
    assert isinstance(policy, (Decimal, float))
    if comparison == "equals":
        return request == policy
    if comparison == "lt":
        return request < policy
    if comparison == "lte":
        return request <= policy
    if comparison == "gt":
        return request > policy
    return request >= policy
