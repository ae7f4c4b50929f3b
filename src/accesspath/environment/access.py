"""What a caller can do: every action of the services it touches, on the template's resources and "*".

Each (action, resource) pair is a question put to the one evaluator through :class:`Decider`,
with the same path and request assembly as ``accesspath can``; nothing here reads policy text.
The services examined are those the caller's identity policies name and those of the resources
the templates declare. An action is tried against each declared resource of a resource type it is
authorized against (Service Authorization Reference), or against "*" when it takes none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from accesspath.catalog.calls import IamRequest
from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision, Decider


@dataclass(frozen=True)
class ServiceAccess:
    service: str
    decisions: tuple[CallDecision, ...]

    @property
    def allowed(self) -> tuple[CallDecision, ...]:
        return tuple(d for d in self.decisions if d.allowed)

    def limits(self) -> dict[str, int]:
        """How many denied pairs each gate (or the network) is responsible for."""
        counts: dict[str, int] = defaultdict(int)
        for d in self.decisions:
            if d.allowed:
                continue
            if d.decision == "unreachable":
                counts["network (unreachable)"] += 1
            elif d.result is not None and d.result.deciding_gate is not None:
                counts[f"{d.result.deciding_gate.value} ({d.decision})"] += 1
            else:
                counts[d.decision] += 1
        return dict(counts)


def services_of_interest(decider: Decider, caller: Caller) -> list[str]:
    prefixes: set[str] = set()
    if caller.role is not None:
        for policy in caller.role.policies:
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


def caller_access(decider: Decider, caller: Caller, *, services: list[str] | None = None,
                  catalog: ServiceCatalog | None = None) -> list[ServiceAccess]:
    catalog = catalog or get_catalog()
    wanted = services if services is not None else services_of_interest(decider, caller)
    declared = list(decider.env.resources)
    out = []
    for prefix in wanted:
        if not catalog.has_service(prefix):
            continue
        decisions = []
        for action in catalog.actions_of(prefix):
            targets: list[str] = []
            if action.takes_no_resource:
                targets.append("*")
            else:
                for arn in declared:
                    if catalog.resource_types_for_request(action, arn):
                        # Log-group operations are authorized on "log-group:NAME:log-stream:" (AWS's
                        # access denied messages show this form), which 'log-group:NAME:*' matches.
                        holder = decider.env.resources[arn]
                        targets.append(f"{arn}:log-stream:" if holder.kind == "log-group" else arn)
            for resource in targets:
                decisions.append(decider.decide(caller, IamRequest(action.full_name, resource)))
        out.append(ServiceAccess(prefix, tuple(decisions)))
    return out
