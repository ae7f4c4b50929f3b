"""Condition keys: unknown keys, keys the statement's actions never carry, operators of the wrong
type, and set operators that do not fit the key (single-valued vs multivalued)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from accesspath.lint.context import ALL_ACTIONS, RESOLVED, PolicyContext, StatementView
from accesspath.lint.findings import Finding, Severity
from accesspath.lint.global_keys import (
    ARN,
    BOOL,
    DATE,
    IP,
    NUMERIC,
    STRING,
    global_key,
    global_key_names,
)
from accesspath.lint.rules.base import PolicyRule
from accesspath.policy import ConditionClause
from accesspath.policy.patterns import key_template_matches

if TYPE_CHECKING:
    from accesspath.catalog import Action, ServiceCatalog

_CONDITION_KEYS_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
_REFERENCE = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
              "reference_policies_actions-resources-contextkeys.html")
_OPERATORS_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
_SINGLE_VS_MULTI_DOC = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                        "reference_policies_condition-single-vs-multi-valued-condition-keys.html")

# Prefixes of keys that are not services: SAML federation keys (reference_policies_iam-condition-keys.md
# #condition-keys-saml) and identity-provider keys such as "token.actions.githubusercontent.com:sub",
# whose names depend on the provider (a "." or "/" in the prefix).
_FEDERATION_PREFIXES = frozenset({"saml"})


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What is known about a condition key: the operator families it works with and its arity."""

    name: str
    types: tuple[str, ...]
    multivalued: bool
    service: str | None  # None for a global (aws:) key


UNKNOWN = "unknown"   # the key is not documented anywhere we look
EXEMPT = "exempt"     # federation keys and the like: not checked


def _facts_from_catalog_type(name: str, type_: str, service: str) -> KeyFacts:
    base = type_.removeprefix("ArrayOf")
    types = {"String": (STRING,), "ARN": (ARN,), "Bool": (BOOL,), "Numeric": (NUMERIC,), "Date": (DATE,),
             "IPAddress": (IP,)}.get(base, ())
    return KeyFacts(name, types, type_.startswith("ArrayOf"), service)


def _catalog_key(catalog: ServiceCatalog, service: str, key: str) -> KeyFacts | None:
    """The documented key ``key`` is an instance of (``${TagKey}`` and ``<key>`` are variable)."""
    for documented in catalog.condition_keys_of(service):
        if key_template_matches(documented.name, key):
            return _facts_from_catalog_type(documented.name, documented.type, service)
    return None


@functools.lru_cache(maxsize=4096)
def key_facts(catalog: ServiceCatalog, key: str, services: tuple[str, ...]) -> KeyFacts | str:
    """Facts about ``key`` as used in a statement whose actions belong to ``services``."""
    prefix = key.partition(":")[0].lower()
    if prefix == "aws":
        found = global_key(key)
        if found is not None:
            return KeyFacts(found.name, found.types, found.multivalued, None)
        for service in services:  # a service may document an aws: key of its own
            facts = _catalog_key(catalog, service, key)
            if facts is not None:
                return KeyFacts(facts.name, facts.types, facts.multivalued, None)
        return UNKNOWN
    if prefix in _FEDERATION_PREFIXES:
        return EXEMPT
    if not catalog.has_service(prefix):
        # STS documents the identity-provider keys (accounts.google.com:aud, ...); others are free-form.
        facts = _catalog_key(catalog, "sts", key)
        if facts is not None:
            return facts
        return EXEMPT if ("." in prefix or "/" in prefix) else UNKNOWN
    facts = _catalog_key(catalog, prefix, key)
    return facts if facts is not None else UNKNOWN


def _services(view: StatementView) -> tuple[str, ...]:
    return tuple(dict.fromkeys(action.service for action in view.known_actions))


def _clauses(context: PolicyContext) -> Iterator[tuple[StatementView, ConditionClause, KeyFacts | str]]:
    for view in context.statements:
        services = _services(view)
        for clause in view.statement.conditions:
            yield view, clause, key_facts(context.catalog, clause.key, services)


class UnknownConditionKey(PolicyRule):
    id: ClassVar[str] = "unknown-condition-key"
    description: ClassVar[str] = ("a condition key that is neither a global key nor a key of its service; the"
                                  " request never carries it, so the condition never matches (unless IfExists)")
    severity: ClassVar[Severity] = Severity.ERROR
    doc_url: ClassVar[str] = _CONDITION_KEYS_DOC
    fix: ClassVar[str] = "use a global condition key or one the service documents"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view, clause, facts in _clauses(context):
            if facts != UNKNOWN:
                continue
            closest = _closest_key(context.catalog, clause.key)
            hint = f" (did you mean '{closest}'?)" if closest else ""
            yield self.at(context, f"unknown condition key '{clause.key}'{hint}", clause.position, view,
                          fix=f"replace '{clause.key}' with '{closest}'" if closest else None)


def _closest_key(catalog: ServiceCatalog, key: str) -> str | None:
    prefix = key.partition(":")[0].lower()
    if prefix == "aws":
        names = list(global_key_names())
    elif catalog.has_service(prefix):
        names = [k.name for k in catalog.condition_keys_of(prefix)]
    else:
        service = catalog.closest_service(prefix)
        if service is None:
            return None
        names = [k.name for k in catalog.condition_keys_of(service)]
        key = f"{service}:{key.partition(':')[2]}"
    by_lower = {name.lower(): name for name in names}
    found = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]].rstrip("/") if found else None


class ConditionKeyNotApplicable(PolicyRule):
    """A service key is in the request context only for the actions (and resource types) that list it
    in the Service Authorization Reference. When none of the statement's actions of that service
    lists it, an Allow's condition never matches and a Deny's condition never applies.
    Keys of other services (``ec2:SourceInstanceARN`` on S3 actions) are not judged: several are set
    across services.
    """

    id: ClassVar[str] = "condition-key-not-applicable"
    description: ClassVar[str] = "a service condition key that none of the statement's actions of that service supports"
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _REFERENCE
    fix: ClassVar[str] = "use a key the actions support, or move the actions that support it to their own statement"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view, clause, facts in _clauses(context):
            if not isinstance(facts, KeyFacts) or facts.service is None:
                continue
            if view.negated_actions or any(e.status == ALL_ACTIONS or e.service_has_wildcard for e in view.actions):
                continue
            same_service = [a for e in view.actions if e.status == RESOLVED for a in e.actions
                            if a.service == facts.service]
            if not same_service:
                continue
            if any(_supports(context.catalog, action, clause.key) for action in same_service):
                continue
            if not _listed_by_any_action(context.catalog, facts.service, clause.key.lower()):
                continue  # a request-origin key such as ec2:SourceInstanceARN, set whatever the action
            names = ", ".join(f"'{a.full_name}'" for a in same_service[:3])
            more = f" and {len(same_service) - 3} more" if len(same_service) > 3 else ""
            yield self.at(context, f"condition key '{clause.key}' does not apply to {names}{more}",
                          clause.position, view)


def _supports(catalog: ServiceCatalog, action: Action, key: str) -> bool:
    names: list[str] = list(action.condition_keys)
    for row, resource_type in catalog.action_resource_types(action):
        names.extend(row.condition_keys)
        names.extend(resource_type.condition_keys)
    return any(key_template_matches(name, key) for name in names)


@functools.lru_cache(maxsize=1024)
def _listed_by_any_action(catalog: ServiceCatalog, service: str, key: str) -> bool:
    return any(_supports(catalog, action, key) for action in catalog.actions_of(service))


# Which key types each operator family reads (reference_policies_elements_condition_operators.md).
# String operators work on ARN keys too: the global-keys page says aws:PrincipalArn and aws:SourceArn
# "work with ARN operators and string operators". ARN operators on String keys are not reported
# either: String keys often hold ARNs (AWS's own AmazonECSInfrastructureRolePolicyForVolumes uses
# ArnLike on aws:RequestTag/...), and the reference types some ARN-valued keys as String.
_FAMILY_TYPES = {
    "string": (STRING, ARN), "arn": (ARN, STRING), "numeric": (NUMERIC,), "date": (DATE,), "bool": (BOOL,),
    "ip": (IP,), "binary": ("Binary",),
}


class ConditionOperatorTypeMismatch(PolicyRule):
    id: ClassVar[str] = "condition-operator-type-mismatch"
    description: ClassVar[str] = ("a condition operator of another type than its key (NumericLessThan on a String"
                                  " key, IpAddress on a non-IP key); the comparison never behaves as intended")
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _OPERATORS_DOC
    fix: ClassVar[str] = "use an operator of the key's type"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        from accesspath.policy.operators import OPERATORS

        for view, clause, facts in _clauses(context):
            if not isinstance(facts, KeyFacts) or not facts.types:
                continue
            family = OPERATORS[clause.base].family
            if family == "null":
                continue
            allowed = _FAMILY_TYPES[family]
            if any(t in allowed for t in facts.types):
                continue
            shown = " or ".join(facts.types)
            yield self.at(context, f"'{clause.operator}' compares '{clause.key}' as {family}, but the key is"
                          f" of type {shown}", clause.position, view,
                          fix=f"use a {_operator_kind(facts.types[0])} operator with '{clause.key}'")


def _operator_kind(type_: str) -> str:
    return {STRING: "String", ARN: "Arn (or String)", BOOL: "Bool", NUMERIC: "Numeric", DATE: "Date",
            IP: "IpAddress/NotIpAddress"}.get(type_, type_)


class SetOperatorOnSingleValuedKey(PolicyRule):
    """reference_policies_condition-single-vs-multi-valued-condition-keys.md: "Using condition set
    operators with single-valued condition keys can lead to overly permissive policies" (ForAllValues
    is true when the key is missing)."""

    id: ClassVar[str] = "set-operator-on-single-valued-key"
    description: ClassVar[str] = "ForAllValues or ForAnyValue with a single-valued condition key"
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _SINGLE_VS_MULTI_DOC
    fix: ClassVar[str] = "drop the set operator"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view, clause, facts in _clauses(context):
            if (isinstance(facts, KeyFacts) and clause.set_operator is not None and not facts.multivalued
                    and clause.base != "Null"):
                bare = clause.operator.partition(":")[2]
                yield self.at(context, f"'{clause.operator}' on the single-valued key '{clause.key}'"
                              + (": ForAllValues is also true when the key is missing"
                                 if clause.set_operator == "ForAllValues" else ""),
                              clause.position, view, fix=f"write '{bare}' instead of '{clause.operator}'")


class MultivaluedKeyWithoutSetOperator(PolicyRule):
    """Same page: "Multivalued condition keys require condition set operators ForAllValues or
    ForAnyValue"."""

    id: ClassVar[str] = "multivalued-key-without-set-operator"
    description: ClassVar[str] = "a multivalued condition key used without ForAllValues or ForAnyValue"
    severity: ClassVar[Severity] = Severity.WARNING
    doc_url: ClassVar[str] = _SINGLE_VS_MULTI_DOC
    fix: ClassVar[str] = "prefix the operator with ForAnyValue: (any value matches) or ForAllValues: (every value matches)"

    def check(self, context: PolicyContext) -> Iterator[Finding]:
        for view, clause, facts in _clauses(context):
            if (isinstance(facts, KeyFacts) and facts.multivalued and clause.set_operator is None
                    and clause.base != "Null"):
                yield self.at(context, f"'{clause.operator}' on the multivalued key '{clause.key}' needs"
                              " ForAnyValue or ForAllValues: without one, a request with several values cannot"
                              " be evaluated (an Allow never applies, a Deny always does; docs/evaluation.md)",
                              clause.position, view,
                              fix=f"write 'ForAnyValue:{clause.operator}' or 'ForAllValues:{clause.operator}'")
