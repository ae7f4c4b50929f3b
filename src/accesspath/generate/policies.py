"""The narrowest identity policy per role and endpoint policy per endpoint for what was observed.

Every observed request counts, whatever the log decided: the goal is what the application needs,
and a request the old policies denied is one the application made. Statements hold the actions of
one service that share the same resources (and, in endpoint policies, the same principals); their
Sid is the service in PascalCase followed by the access levels of its actions (``EcsList``,
``LogsWrite``; a number is added when a policy has two statements with the same name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accesspath.catalog.service_catalog import ServiceCatalog
from accesspath.generate.decision_log import ObservedRequest
from accesspath.generate.resources import (
    DEFAULT_GROUP_THRESHOLD,
    ResourcePattern,
    group_resources,
)

POLICY_VERSION = "2012-10-17"
POLICY_NAME_PREFIX = "accesspath-generated-"

# The Service Authorization Reference's access levels, in the order Sids name them.
_LEVEL_ORDER = ("List", "Read", "Write", "Permissions management", "Tagging")


@dataclass(frozen=True, slots=True)
class GeneratedStatement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[ResourcePattern, ...]
    principals: tuple[str, ...] = ()          # endpoint policies: the role ARNs seen through the endpoint

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": "Allow"}
        if self.principals:
            out["Principal"] = {"AWS": list(self.principals)}
        out["Action"] = list(self.actions)
        out["Resource"] = [r.pattern for r in self.resources]
        return out


@dataclass(frozen=True, slots=True)
class RoleIdentity:
    """A role as the policies name it: its name, ARN and, when the templates declare it, logical id."""

    name: str
    arn: str
    logical_id: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    role: RoleIdentity
    statements: tuple[GeneratedStatement, ...]
    requests: tuple[ObservedRequest, ...]

    @property
    def name(self) -> str:
        return f"{POLICY_NAME_PREFIX}{self.role.name}"

    def document(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_json() for s in self.statements]}

    def to_json_text(self) -> str:
        return json.dumps(self.document(), indent=2) + "\n"


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    endpoint_id: str
    service_name: str | None
    statements: tuple[GeneratedStatement, ...]
    requests: tuple[ObservedRequest, ...]
    logical_id: str | None = None         # the AWS::EC2::VPCEndpoint of the templates, when found

    def document(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_json() for s in self.statements]}

    def to_json_text(self) -> str:
        return json.dumps(self.document(), indent=2) + "\n"


def identity_policy(role: RoleIdentity, requests: Sequence[ObservedRequest], catalog: ServiceCatalog,
                    threshold: int = DEFAULT_GROUP_THRESHOLD) -> IdentityPolicy:
    """The narrowest identity policy that allows every observed request of ``role``."""
    by_action = _resources_by_action(requests, catalog)
    groups: dict[tuple[str, tuple[str, ...]], tuple[list[str], tuple[ResourcePattern, ...]]] = {}
    for action, arns in by_action.items():
        patterns = group_resources(catalog, action, arns, threshold)
        key = (_service(action), tuple(p.pattern for p in patterns))
        groups.setdefault(key, ([], patterns))[0].append(action)
    no_principals: tuple[str, ...] = ()
    statements = [(service, sorted(actions), patterns, no_principals)
                  for (service, _), (actions, patterns) in groups.items()]
    return IdentityPolicy(role, _with_sids(statements, catalog), tuple(requests))


def endpoint_policy(endpoint_id: str, requests: Sequence[ObservedRequest], catalog: ServiceCatalog,
                    role_arns: dict[str, str], threshold: int = DEFAULT_GROUP_THRESHOLD,
                    logical_id: str | None = None) -> EndpointPolicy:
    """The narrowest endpoint policy that lets every observed request through ``endpoint_id``.

    ``role_arns`` maps role names to the ARN to name as principal (the role's own ARN, with its
    path, when the templates give it; else the one derived from the session ARN).
    """
    through = [r for r in requests if r.endpoint_id == endpoint_id]
    by_action = _resources_by_action(through, catalog)
    # Which roles made each (action, ARN) request.
    seen_by: dict[tuple[str, str], set[str]] = {}
    for request in through:
        seen_by.setdefault((_canonical(request.action, catalog), request.resource), set()).add(
            role_arns.get(request.role_name, request.role_arn))
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[list[str], list[ResourcePattern]]] = {}
    for action, arns in by_action.items():
        per_principals: dict[tuple[str, ...], list[ResourcePattern]] = {}
        for pattern in group_resources(catalog, action, arns, threshold):
            seen: set[str] = set().union(*(seen_by.get((action, arn), set()) for arn in pattern.observed))
            per_principals.setdefault(tuple(sorted(seen)), []).append(pattern)
        for principal_arns, patterns in per_principals.items():
            key = (_service(action), principal_arns, tuple(p.pattern for p in patterns))
            groups.setdefault(key, ([], patterns))[0].append(action)
    statements = [(service, sorted(actions), tuple(patterns), principals)
                  for (service, principals, _), (actions, patterns) in groups.items()]
    service_name = next((r.path.service_name for r in through if r.path and r.path.service_name), None)
    return EndpointPolicy(endpoint_id, service_name, _with_sids(statements, catalog), tuple(through), logical_id)


def _resources_by_action(requests: Iterable[ObservedRequest], catalog: ServiceCatalog) -> dict[str, list[str]]:
    by_action: dict[str, list[str]] = {}
    for request in requests:
        by_action.setdefault(_canonical(request.action, catalog), []).append(request.resource)
    return by_action


def _canonical(action: str, catalog: ServiceCatalog) -> str:
    """``ecs:describeclusters`` → ``ecs:DescribeClusters``; an action the catalog lacks stays as logged."""
    found = catalog.find_action(action)
    return found.full_name if found is not None else action


def _service(action: str) -> str:
    return action.partition(":")[0].lower()


def _with_sids(statements: list[tuple[str, list[str], tuple[ResourcePattern, ...], tuple[str, ...]]],
               catalog: ServiceCatalog) -> tuple[GeneratedStatement, ...]:
    named = [(_sid_base(service, actions, catalog), actions, patterns, principals)
             for service, actions, patterns, principals in statements]
    named.sort(key=lambda s: (s[0], s[1], [p.pattern for p in s[2]], s[3]))
    counts: dict[str, int] = {}
    for base, *_ in named:
        counts[base] = counts.get(base, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for base, actions, patterns, principals in named:
        seen[base] = seen.get(base, 0) + 1
        sid = base if counts[base] == 1 else f"{base}{seen[base]}"
        out.append(GeneratedStatement(sid, tuple(actions), tuple(patterns), principals))
    return tuple(out)


def _sid_base(service: str, actions: list[str], catalog: ServiceCatalog) -> str:
    levels = set()
    for action in actions:
        found = catalog.find_action(action)
        if found is not None and found.access_level:
            levels.add(found.access_level)
    ordered = [level for level in _LEVEL_ORDER if level in levels] + sorted(levels - set(_LEVEL_ORDER))
    words = pascal_case(service) + "".join(pascal_case(level) for level in ordered)
    return words or "Generated"


def pascal_case(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in "".join(
        c if c.isalnum() else " " for c in text).split())
