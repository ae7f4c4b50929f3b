"""From a decision log to policies: choose the roles, generate, check, confirm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from accesspath.catalog.endpoint_services import EndpointServiceTable
from accesspath.catalog.service_catalog import ServiceCatalog, get_catalog
from accesspath.engine.request import (
    PrincipalFormatError,
    PrincipalKind,
    principal_from_arn,
)
from accesspath.environment.model import Environment
from accesspath.errors import UsageError
from accesspath.generate.confirm import (
    BroaderThanObserved,
    Confirmation,
    broader_than_observed,
    confirm,
    match_endpoint,
)
from accesspath.generate.decision_log import DecisionLog, ObservedRequest
from accesspath.generate.policies import (
    EndpointPolicy,
    IdentityPolicy,
    RoleIdentity,
    endpoint_policy,
    identity_policy,
)
from accesspath.generate.resources import DEFAULT_GROUP_THRESHOLD

# Decisions of the log that say the current policies refused the request.
DENIED_IN_LOG = frozenset({"explicitDeny", "implicitDeny"})


@dataclass(frozen=True)
class GeneratedPolicies:
    log: DecisionLog
    identities: tuple[IdentityPolicy, ...]
    endpoints: tuple[EndpointPolicy, ...]
    broader: tuple[BroaderThanObserved, ...]
    confirmation: Confirmation | None
    threshold: int
    notes: tuple[str, ...] = ()
    role_logical_ids: dict[str, str] = field(default_factory=dict)   # role ARN → logical id of the templates
    # Requests through an endpoint that the log shows denied, left out of the endpoint policies
    # (``include_denied`` adds them): the current policies deny them, which may well be the intent.
    withheld: tuple[ObservedRequest, ...] = ()

    @property
    def exit_status(self) -> int:
        """0 when every observed request passes with the generated policies (or nothing could be confirmed)."""
        return 0 if self.confirmation is None or self.confirmation.all_allowed else 1


def select_roles(log: DecisionLog, ref: str | None, env: Environment | None) -> tuple[str, ...]:
    """The role names to generate for: ``--role`` (name, role or session ARN, logical id) or every role."""
    in_log = log.roles()
    if not in_log:
        raise UsageError("the decision log has no requests made by a role: nothing to generate", source=log.source)
    if ref is None:
        return in_log
    name = ref
    if ref.startswith("arn:"):
        try:
            principal = principal_from_arn(ref)
        except PrincipalFormatError:
            raise UsageError(f"--role '{ref}' is not a role ARN") from None
        if principal.kind is not PrincipalKind.ROLE_SESSION or not principal.role_name:
            raise UsageError(f"--role '{ref}' is not a role ARN")
        name = principal.role_name
    elif env is not None and ref not in in_log:
        role = env.role_by_name_or_arn(ref)
        if role is not None:
            name = role.name
    if name not in in_log:
        hint = "" if env is not None else "; a logical id needs the TEMPLATEs"
        raise UsageError(f"--role '{ref}' made no request in the decision log (roles in it: {', '.join(in_log)}){hint}")
    return (name,)


def generate_from_log(log: DecisionLog, *, env: Environment | None = None, role: str | None = None,
                      threshold: int = DEFAULT_GROUP_THRESHOLD, template_sources: Sequence[str] = (),
                      endpoint_services: EndpointServiceTable | None = None, resource_account: str | None = None,
                      catalog: ServiceCatalog | None = None,
                      policy_files: dict[str, str] | None = None,
                      include_denied: bool = False) -> GeneratedPolicies:
    """The narrowest identity policy per role and endpoint policy per endpoint, checked and, with an
    environment, confirmed by re-deciding every observed request.

    A request the log shows denied went through an endpoint whose current policies refused it: an
    endpoint policy is a perimeter, and widening it to what was refused would undo its intent (seed
    004's endpoint confines writes to one log group). Such requests are left out of the endpoint
    policies and listed in ``withheld`` unless ``include_denied``; identity policies still cover them."""
    if threshold < 0:
        raise UsageError(f"--group-threshold must be 0 or more, not {threshold}")
    catalog = catalog or get_catalog()
    notes: list[str] = []
    names = select_roles(log, role, env)
    identities = []
    for name in names:
        requests = log.of_role(name)
        declared = env.role_by_name_or_arn(name) if env is not None else None
        identity = RoleIdentity(name, declared.arn if declared else requests[0].role_arn,
                                declared.logical_id if declared else None)
        identities.append(identity_policy(identity, requests, catalog, threshold))
    role_arns = {i.role.name: i.role.arn for i in identities}
    role_logical_ids = {i.role.arn: i.role.logical_id for i in identities if i.role.logical_id}

    selected = [r for name in names for r in log.of_role(name)]
    withheld = [] if include_denied else [r for r in selected if r.endpoint_id and r.decision in DENIED_IN_LOG]
    withheld_ids = {id(r) for r in withheld}
    passing = [r for r in selected if id(r) not in withheld_ids]
    endpoints = []
    for endpoint_id in dict.fromkeys(r.endpoint_id for r in selected if r.endpoint_id):
        service_name = next((r.path.service_name for r in selected
                             if r.endpoint_id == endpoint_id and r.path and r.path.service_name), None)
        if not any(r.endpoint_id == endpoint_id for r in passing):
            notes.append(f"endpoint {endpoint_id}: every observed request through it was denied in the log;"
                         " no endpoint policy is generated for it (--include-denied to allow them)")
            continue
        logical_id = None
        if env is not None:
            found, _ = match_endpoint(env, endpoint_id, service_name)
            logical_id = found.logical_id if found else None
        endpoints.append(endpoint_policy(endpoint_id, passing, catalog, role_arns, threshold, logical_id))
        others = sorted({r.role_name for r in log.requests if r.endpoint_id == endpoint_id} - set(names))
        if others:
            notes.append(f"endpoint {endpoint_id} was also used by {', '.join(others)}: its generated policy"
                         " covers only the selected roles and would deny them")
    if role is not None:
        others = [name for name in log.roles() if name not in names]
        if others:
            count = sum(1 for r in log.requests if r.role_name in others)
            notes.append(f"{count} requests of other roles ({', '.join(others)}) were not considered (--role)")

    broader = broader_than_observed(identities, endpoints)
    confirmation = None
    if env is not None:
        confirmation = confirm(env, identities, endpoints, sources=template_sources,
                               endpoint_services=endpoint_services, resource_account=resource_account,
                               policy_files=policy_files, withheld=withheld)
    return GeneratedPolicies(log, tuple(identities), tuple(endpoints), broader, confirmation, threshold,
                             tuple(notes), role_logical_ids, tuple(withheld))
