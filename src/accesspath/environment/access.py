"""What a caller can do: every action of each service, on which resources, and what limits the rest.

Each (action, resource) pair is a question put to the one evaluator through :class:`Decider`, with
the same path and request assembly as ``accesspath can``; nothing here reads policy text to decide.
For each action the resources asked about are (Service Authorization Reference: the resource types
an action is authorized against, and their ARN formats):

- ``*`` for an action that takes no resource;
- every resource of the environment of a type the action takes (buckets, queues, keys, secrets,
  repositories, log groups, tables, parameters, roles, ECS clusters, services, task definitions,
  capacity providers);
- every ``Resource`` pattern of the caller's policies and of the endpoint policies of its VPC that
  is of such a type (``arn:aws:logs:*:*:log-group:app-*`` with the region and account filled in);
- one stand-in for "any resource of the type": the type's ARN format with the environment's
  partition, region and account and ``*`` for the rest. The engine reads it as a literal ARN, so it
  is allowed only by patterns that cover every resource of the type (``*``, ``cluster/*``).

The services examined are those the caller's identity policies name; a pattern that names every
service (``*``, ``NotAction``) stands for the services of the environment: its resources and the
interface and gateway endpoints of the caller's VPC. ``--service`` names others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from accesspath.catalog.arn_templates import fill_template, template_variables
from accesspath.catalog.calls import IamRequest
from accesspath.catalog.model import Action
from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision, Decider
from accesspath.policy import Policy
from accesspath.policy.patterns import wildcard_match

# Why a resource was asked about.
NO_RESOURCE = "no-resource"        # the action takes none: "*"
DECLARED = "declared"              # a resource of the environment
POLICY_PATTERN = "policy-pattern"  # a Resource pattern of a policy on the caller's way
ANY_OF_TYPE = "any-of-type"        # any resource of the type (the ARN format, "*" for names)

# Beyond this many services, a service pattern is taken as "every service".
_MAX_EXPANDED_SERVICES = 12


@dataclass(frozen=True)
class AccessPair:
    """One decided (action, resource) pair and why that resource was asked about."""

    decision: CallDecision
    basis: str
    resource_type: str | None = None

    @property
    def action(self) -> str:
        return self.decision.request.action

    @property
    def resource(self) -> str:
        return self.decision.request.resource


@dataclass(frozen=True)
class GateLimit:
    """The pairs one gate (or the network, or the unknown) stopped."""

    gate: str          # "vpc-endpoint", "identity", ..., "network", "undetermined"
    decision: str      # implicitDeny, explicitDeny, unreachable, undetermined
    pairs: int
    actions: tuple[str, ...]


@dataclass(frozen=True)
class ServiceAccess:
    service: str
    pairs: tuple[AccessPair, ...]
    actions: tuple[str, ...]          # every action of the service in the catalog

    @property
    def decisions(self) -> tuple[CallDecision, ...]:
        return tuple(p.decision for p in self.pairs)

    @property
    def allowed(self) -> tuple[AccessPair, ...]:
        return tuple(p for p in self.pairs if p.decision.allowed)

    @property
    def allowed_actions(self) -> tuple[str, ...]:
        """Actions allowed on at least one of the resources asked about."""
        return tuple(dict.fromkeys(p.action for p in self.allowed))

    def counts(self) -> dict[str, int]:
        """How many pairs got each decision; they add up to ``len(pairs)``."""
        counts: dict[str, int] = defaultdict(int)
        for pair in self.pairs:
            counts[pair.decision.decision] += 1
        return dict(counts)

    def limits(self) -> tuple[GateLimit, ...]:
        """Which gate stopped the pairs that are not allowed, most pairs first."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for pair in self.pairs:
            d = pair.decision
            if d.allowed:
                continue
            if d.decision == "unreachable":
                gate = "network"
            elif d.decision == "undetermined":
                gate = "undetermined"
            elif d.result is not None and d.result.deciding_gate is not None:
                gate = d.result.deciding_gate.value
            else:
                gate = "none"
            groups[(gate, d.decision)].append(pair.action)
        limits = [GateLimit(gate, decision, len(actions), tuple(dict.fromkeys(actions)))
                  for (gate, decision), actions in groups.items()]
        return tuple(sorted(limits, key=lambda g: (-g.pairs, g.gate)))


@dataclass(frozen=True)
class CallerAccess:
    caller: Caller
    services: tuple[ServiceAccess, ...]
    notes: tuple[str, ...] = ()


def services_of_interest(decider: Decider, caller: Caller) -> list[str]:
    """The prefixes the caller's identity policies name exactly, and those of the environment's resources
    (the audit's task-role rule probes these)."""
    prefixes: set[str] = set()
    for policy in _identity_policies(caller):
        for statement in policy.statements:
            for pattern in statement.action.patterns:
                prefix = pattern.text.split(":", 1)[0].lower()
                if prefix and "*" not in prefix and "?" not in prefix:
                    prefixes.add(prefix)
    for arn in decider.env.resources:
        parts = arn.split(":")
        if len(parts) > 2:
            prefixes.add(parts[2])
    return sorted(prefixes)


def services_to_examine(decider: Decider, caller: Caller,
                        catalog: ServiceCatalog | None = None) -> tuple[list[str], list[str]]:
    """The service prefixes ``access`` examines and notes on how they were chosen."""
    catalog = catalog or get_catalog()
    known = catalog.service_prefixes()
    named: set[str] = set()
    every_service = False
    for policy in _identity_policies(caller):
        for statement in policy.statements:
            if statement.effect.value != "Allow":
                continue
            if statement.action.negated:
                every_service = True
                continue
            for pattern in statement.action.patterns:
                prefix = pattern.text.split(":", 1)[0].lower()
                if not prefix:
                    continue
                if "*" not in prefix and "?" not in prefix:
                    named.add(prefix)
                    continue
                matching = [p for p in known if wildcard_match(prefix, p, ignore_case=True)]
                if len(matching) > _MAX_EXPANDED_SERVICES:
                    every_service = True
                else:
                    named.update(matching)
    notes: list[str] = []
    if every_service:
        environment = _environment_services(decider, caller, catalog)
        notes.append("the caller's policies allow actions of every service: shown are the services of the"
                     f" environment ({', '.join(sorted(environment)) or 'none'}) and those its policies name;"
                     " --service PREFIX for others")
        named.update(environment)
    return sorted(p for p in named if catalog.has_service(p)), notes


def caller_access(decider: Decider, caller: Caller, *, services: list[str] | None = None,
                  catalog: ServiceCatalog | None = None) -> CallerAccess:
    catalog = catalog or get_catalog()
    notes: list[str] = []
    if services is None:
        wanted, notes = services_to_examine(decider, caller, catalog)
    else:
        wanted = []
        for prefix in services:
            if catalog.has_service(prefix):
                wanted.append(prefix.lower())
            else:
                closest = catalog.closest_service(prefix)
                notes.append(f"'{prefix}' is not a service prefix of the IAM action catalog"
                             + (f" (did you mean '{closest}'?)" if closest else ""))
    declared = _declared_arns(decider)
    patterns = _policy_patterns(decider, caller)
    out = []
    for prefix in wanted:
        pairs: list[AccessPair] = []
        actions = catalog.actions_of(prefix)
        for action in actions:
            for resource, basis, type_name in _targets(action, catalog, decider, declared, patterns):
                pairs.append(AccessPair(decider.decide(caller, IamRequest(action.full_name, resource)), basis,
                                        type_name))
        out.append(ServiceAccess(prefix, tuple(pairs), tuple(a.full_name for a in actions)))
    return CallerAccess(caller, tuple(out), tuple(notes))


def _targets(action: Action, catalog: ServiceCatalog, decider: Decider, declared: list[tuple[str, str]],
             patterns: list[str]) -> list[tuple[str, str, str | None]]:
    """The resources to ask about for ``action``: (request resource, basis, resource type)."""
    if action.takes_no_resource:
        return [("*", NO_RESOURCE, None)]
    env = decider.env
    seen: set[str] = set()
    out: list[tuple[str, str, str | None]] = []

    def add(resource: str, basis: str, type_name: str) -> None:
        if resource not in seen:
            seen.add(resource)
            out.append((resource, basis, type_name))

    for _, resource_type in catalog.action_resource_types(action):
        for arn, kind in declared:
            if resource_type.matches(arn):
                # Log-group operations are authorized on "log-group:NAME:log-stream:" (AWS's access
                # denied messages show this form), which 'log-group:NAME:*' matches.
                add(f"{arn}:log-stream:" if kind == "log-group" else arn, DECLARED, resource_type.name)
                continue
            # What lives inside a declared resource (a log group's streams, a bucket's objects): the
            # type's ARN format extends the declared resource's own, "*" for the rest.
            for parent in catalog.classify_arn(arn, action.service):
                if parent.name != resource_type.name and resource_type.arn_template.startswith(parent.arn_template):
                    rest = resource_type.arn_template[len(parent.arn_template):]
                    child = arn + fill_template(rest, {name: "*" for name in template_variables(rest)})
                    if resource_type.matches(child):
                        add(child, DECLARED, resource_type.name)
        for pattern in patterns:
            candidate = _as_request_arn(pattern, env.region, env.account)
            if candidate is not None and resource_type.matches(candidate):
                add(candidate, POLICY_PATTERN, resource_type.name)
        template = resource_type.arn_template
        values = {name: "*" for name in template_variables(template)}
        values.update(Partition=env.partition, Region=env.region, Account=env.account)
        add(fill_template(template, values), ANY_OF_TYPE, resource_type.name)
    return out


def _as_request_arn(pattern: str, region: str, account: str) -> str | None:
    """A policy's Resource pattern as a resource to ask about: a wildcard region or account becomes the
    environment's; the resource part keeps its wildcards (the engine reads them as literal text)."""
    if "${" in pattern or not pattern.startswith("arn:"):
        return None
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return None
    if parts[3] in ("*", "?"):
        parts[3] = region
    if parts[4] in ("*", "?"):
        parts[4] = account
    return ":".join(parts)


def _identity_policies(caller: Caller) -> Iterable[Policy]:
    role = caller.role
    if role is None:
        return ()
    return tuple(role.policies) + ((role.permissions_boundary,) if role.permissions_boundary else ())


def _policy_patterns(decider: Decider, caller: Caller) -> list[str]:
    """Resource patterns of the caller's policies and of the endpoint policies in its VPC."""
    policies = list(_identity_policies(caller))
    subnet = decider.env.subnets.get(caller.placement.subnet_id) if caller.placement else None
    if subnet is not None:
        policies += [e.policy for e in decider.env.endpoints.values() if e.vpc_id == subnet.vpc_id and e.policy]
    found: dict[str, None] = {}
    for policy in policies:
        for statement in policy.statements:
            if statement.resource is None or statement.resource.negated:
                continue
            for pattern in statement.resource.patterns:
                if pattern.text != "*":
                    found[pattern.text] = None
    return list(found)


def _declared_arns(decider: Decider) -> list[tuple[str, str]]:
    """(ARN, kind) of every resource of the environment, roles included."""
    env = decider.env
    out = [(arn, holder.kind) for arn, holder in env.resources.items()]
    out += [(role.arn, "iam-role") for role in env.roles.values()]
    return out


def _environment_services(decider: Decider, caller: Caller, catalog: ServiceCatalog) -> set[str]:
    env = decider.env
    prefixes = {arn.split(":")[2] for arn, _ in _declared_arns(decider) if arn.count(":") >= 2}
    subnet = env.subnets.get(caller.placement.subnet_id) if caller.placement else None
    for endpoint in env.endpoints.values():
        if subnet is not None and endpoint.vpc_id != subnet.vpc_id:
            continue
        service = decider.endpoint_services.by_id(endpoint.short_service, endpoint.region or env.region)
        if service is not None:
            prefixes.update(p for p in service.iam_prefixes if catalog.has_service(p))
    return prefixes
