"""Confirming generated policies: re-decide every observed request with them in place.

The environment of the templates is rebuilt with the generated identity policy as the role's only
policy (its permissions boundary, SCPs and RCPs stay: they may still deny, and that is reported) and
the generated endpoint policies as the endpoints' policies; every observed request is then decided
by the one :class:`~accesspath.environment.decide.Decider`. A separate check asks the engine
whether each generalized resource pattern allows an ARN that was never observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from accesspath.catalog.calls import IamRequest
from accesspath.catalog.endpoint_services import (
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.engine import AuthorizationRequest, PolicySet, RequestContext, authorize
from accesspath.engine.request import RequestPrincipal, principal_from_arn
from accesspath.environment.callers import Caller, resolve_caller
from accesspath.environment.decide import Decider
from accesspath.environment.model import Environment, VpcEndpoint
from accesspath.errors import UsageError
from accesspath.generate.decision_log import ObservedRequest
from accesspath.generate.policies import (
    EndpointPolicy,
    GeneratedStatement,
    IdentityPolicy,
)
from accesspath.policy import Policy, PolicyType, parse_policy

# A stand-in for a resource name nobody observed, to probe what a pattern allows.
UNOBSERVED = "accesspath-unobserved"

_ALLOW_ALL = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                          policy_id="allow everything (to isolate the endpoint policy)")


@dataclass(frozen=True, slots=True)
class ConfirmedRequest:
    observed: ObservedRequest
    decision: str            # allowed, explicitDeny, implicitDeny, unreachable, undetermined, unconfirmed
    gate: str | None
    message: str
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass(frozen=True, slots=True)
class Confirmation:
    sources: tuple[str, ...]                 # the templates
    results: tuple[ConfirmedRequest, ...]    # the requests the generated policies are meant to allow
    notes: tuple[str, ...] = ()
    # Requests denied in the log and kept out of the endpoint policies: meant to stay denied.
    withheld: tuple[ConfirmedRequest, ...] = ()

    @property
    def withheld_now_allowed(self) -> tuple[ConfirmedRequest, ...]:
        return tuple(r for r in self.withheld if r.allowed)

    @property
    def not_allowed(self) -> tuple[ConfirmedRequest, ...]:
        return tuple(r for r in self.results if not r.allowed)

    @property
    def all_allowed(self) -> bool:
        return not self.not_allowed


@dataclass(frozen=True, slots=True)
class BroaderThanObserved:
    """A statement's resource pattern that allows its actions on a resource that was not observed."""

    policy: str               # "identity policy accesspath-generated-app" / "endpoint policy of vpce-..."
    sid: str
    actions: tuple[str, ...]  # the statement's actions the engine allows on the probe
    pattern: str
    probe: str                # an unobserved ARN the engine allows
    observed: int             # how many observed ARNs the pattern stands for

    def describe(self) -> str:
        actions = ", ".join(self.actions)
        if self.pattern == "*":
            return f"{self.policy}, {self.sid}: {actions} on \"*\" allows every resource ({self.observed} observed)"
        return (f"{self.policy}, {self.sid}: {actions} on '{self.pattern}' stands for {self.observed} observed"
                f" ARNs and also allows others, e.g. '{self.probe}'")


def generated_identity_policy(policy: IdentityPolicy, source: str | None = None) -> Policy:
    return parse_policy(policy.to_json_text(), policy_type=PolicyType.IDENTITY, policy_id=policy.name,
                        source=source or f"<{policy.name}>")


def generated_endpoint_policy(policy: EndpointPolicy, source: str | None = None) -> Policy:
    return parse_policy(policy.to_json_text(), policy_type=PolicyType.VPC_ENDPOINT,
                        policy_id=f"accesspath-generated endpoint policy of {policy.endpoint_id}",
                        source=source or f"<endpoint policy of {policy.endpoint_id}>")


def match_endpoint(env: Environment, endpoint_id: str, service_name: str | None) -> tuple[VpcEndpoint | None, str]:
    """The endpoint of the environment a logged endpoint id stands for, and a note when it is a guess."""
    found = env.endpoints.get(endpoint_id)
    if found is not None:
        return found, ""
    for endpoint in env.endpoints.values():
        if endpoint.logical_id == endpoint_id:
            return endpoint, ""
    same_service = [e for e in env.endpoints.values() if service_name and e.service_name == service_name]
    if len(same_service) == 1:
        chosen = same_service[0]
        return chosen, (f"endpoint '{endpoint_id}' of the log is not in the templates; taken to be"
                        f" {chosen.logical_id or chosen.id} ({chosen.id}), the only {service_name} endpoint")
    return None, f"endpoint '{endpoint_id}' of the log is not in the templates"


def confirmed_environment(env: Environment, identities: Sequence[IdentityPolicy],
                          endpoints: Sequence[EndpointPolicy],
                          sources: dict[str, str] | None = None) -> tuple[Environment, tuple[str, ...]]:
    """``env`` with the generated policies in place of the roles' and the endpoints' own.

    ``sources`` maps a role name or endpoint id to the file its generated policy was written to,
    so decisions point at it.
    """
    sources = sources or {}
    notes: list[str] = []
    roles = dict(env.roles)
    for generated in identities:
        role = env.role_by_name_or_arn(generated.role.name)
        if role is None:
            notes.append(f"role '{generated.role.name}' is not in the templates: its requests cannot be confirmed")
            continue
        # The generated policy replaces every identity policy of the role (inline, managed, AWS::IAM::Policy).
        roles[role.name] = replace(role, policies=(generated_identity_policy(generated, sources.get(role.name)),),
                                   managed_policy_arns=(), unresolved=())
    endpoint_map = dict(env.endpoints)
    for generated_endpoint in endpoints:
        endpoint, note = match_endpoint(env, generated_endpoint.endpoint_id, generated_endpoint.service_name)
        if note:
            notes.append(note)
        if endpoint is None:
            continue
        endpoint_map[endpoint.id] = replace(
            endpoint, policy=generated_endpoint_policy(generated_endpoint, sources.get(generated_endpoint.endpoint_id)))
    return replace(env, roles=roles, endpoints=endpoint_map), tuple(notes)


def confirm(env: Environment, identities: Sequence[IdentityPolicy], endpoints: Sequence[EndpointPolicy], *,
            sources: Sequence[str] = (), endpoint_services: EndpointServiceTable | None = None,
            resource_account: str | None = None, policy_files: dict[str, str] | None = None,
            withheld: Sequence[ObservedRequest] = ()) -> Confirmation:
    """Re-decide every observed request of ``identities`` with the generated policies in place.

    ``withheld`` are the requests the log shows denied and the endpoint policies leave out: they are
    decided too, and meant to stay denied."""
    confirmed_env, notes = confirmed_environment(env, identities, endpoints, policy_files)
    decider = Decider(confirmed_env, endpoint_services or default_endpoint_services(),
                      resource_account=resource_account)
    callers: dict[tuple[str | None, str, str], tuple[Caller | None, tuple[str, ...]]] = {}
    results: list[ConfirmedRequest] = []
    kept_out: list[ConfirmedRequest] = []
    withheld_ids = {id(r) for r in withheld}
    for generated in identities:
        for observed in generated.requests:
            key = (observed.caller_id, observed.role_name, observed.principal)
            if key not in callers:
                callers[key] = _caller(confirmed_env, observed)
            caller, caller_notes = callers[key]
            into = kept_out if id(observed) in withheld_ids else results
            if caller is None:
                into.append(ConfirmedRequest(observed, "unconfirmed", None, caller_notes[0], caller_notes[1:]))
                continue
            into.append(_decide(decider, caller, observed, confirmed_env.region, caller_notes))
    return Confirmation(tuple(sources), tuple(results), notes, tuple(kept_out))


def _caller(env: Environment, observed: ObservedRequest) -> tuple[Caller | None, tuple[str, ...]]:
    """The logged caller in the environment, signing as the logged session of the logged role."""
    principal = principal_from_arn(observed.principal)
    if observed.caller_id:
        try:
            caller = resolve_caller(env, observed.caller_id)
        except UsageError:
            caller = None
        if caller is not None and caller.role is not None and caller.role.name == observed.role_name:
            return replace(caller, principal=principal), ()
        task = caller.task_definition if caller is not None else None
        if caller is not None and task is not None and task.execution_role_name:
            # The ECS agent pulls images, writes logs and reads secrets as the task execution role,
            # from the task's network placement.
            execution_role = env.role_by_name_or_arn(task.execution_role_name)
            if execution_role is not None and execution_role.name == observed.role_name:
                return replace(caller, role=execution_role, principal=principal), ()
    role = env.role_by_name_or_arn(observed.role_name)
    if role is None:
        return None, (f"role '{observed.role_name}' is not in the templates",)
    caller = replace(resolve_caller(env, role.name), principal=principal)
    what = f"caller '{observed.caller_id}'" if observed.caller_id else "the caller"
    return caller, (f"{what} of role {role.name} is not in the templates: decided as the role without a network"
                    " placement, so no endpoint policy was applied",)


def _decide(decider: Decider, caller: Caller, observed: ObservedRequest, default_region: str,
            caller_notes: tuple[str, ...]) -> ConfirmedRequest:
    path = observed.path
    region = (path.region if path is not None else None) or _arn_region(observed.resource) or default_region
    via = None
    if path is not None and path.short_service and decider.endpoint_services.by_id(path.short_service, region):
        via = path.short_service
    try:
        decision = decider.decide(caller, IamRequest(observed.action, observed.resource), region=region, via=via)
    except UsageError as error:
        return ConfirmedRequest(observed, "unconfirmed", None, str(error), caller_notes)
    notes = list(caller_notes)
    if caller.placement is not None and observed.endpoint_id and decision.path is not None:
        taken = decision.path.endpoint
        if taken is None:
            notes.append(f"the log went through endpoint {observed.endpoint_id}; the templates give"
                         f" {decision.path.describe()}")
        elif observed.endpoint_id not in (taken.id, taken.logical_id):
            notes.append(f"the log went through endpoint {observed.endpoint_id}; the templates give {taken.id}")
    gate = decision.result.deciding_gate.value if decision.result and decision.result.deciding_gate else None
    return ConfirmedRequest(observed, decision.decision, gate, decision.message, tuple(notes))


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 and parts[3] else None


def broader_than_observed(identities: Sequence[IdentityPolicy],
                          endpoints: Sequence[EndpointPolicy]) -> tuple[BroaderThanObserved, ...]:
    """Every (action, pattern) of the generated policies that the engine allows on an unobserved ARN."""
    found: list[BroaderThanObserved] = []
    for identity in identities:
        policies = PolicySet.of(identity=[generated_identity_policy(identity)])
        principal = principal_from_arn(identity.role.arn)
        for statement in identity.statements:
            found.extend(_probe_statement(f"identity policy {identity.name}", statement, policies, principal))
    for endpoint in endpoints:
        policies = PolicySet.of(identity=[_ALLOW_ALL], vpc_endpoint=[generated_endpoint_policy(endpoint)])
        for statement in endpoint.statements:
            if not statement.principals:
                continue
            principal = principal_from_arn(statement.principals[0])
            found.extend(_probe_statement(f"endpoint policy of {endpoint.endpoint_id}", statement, policies,
                                          principal))
    return tuple(found)


def _probe_statement(policy_name: str, statement: GeneratedStatement, policies: PolicySet,
                     principal: RequestPrincipal) -> list[BroaderThanObserved]:
    found = []
    for pattern in statement.resources:
        if not pattern.generalized:
            continue
        probe = probe_arn(pattern.pattern)
        allowed = tuple(action for action in statement.actions if authorize(
            AuthorizationRequest(principal, action, probe, RequestContext.of({})), policies).allowed)
        if allowed:
            found.append(BroaderThanObserved(policy_name, statement.sid, allowed, pattern.pattern, probe,
                                             len(pattern.observed)))
    return found


def probe_arn(pattern: str) -> str:
    """A concrete ARN the pattern matches that names nothing observed: each ``*`` → ``accesspath-unobserved``."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith(("${*}", "${?}", "${$}"), index):
            out.append(pattern[index + 2])
            index += 4
            continue
        char = pattern[index]
        out.append(UNOBSERVED if char == "*" else "x" if char == "?" else char)
        index += 1
    return "".join(out)
