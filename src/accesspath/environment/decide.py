"""Decide a caller's IAM request in an environment: path first, then every policy on it.

The request AWS sees (reference_policies_condition-keys.md): through a VPC endpoint it carries
``aws:SourceVpce``, ``aws:SourceVpc`` and ``aws:VpcSourceIp`` and no ``aws:SourceIp``; through a
NAT or internet gateway it carries ``aws:SourceIp`` (a public address) and none of the VPC keys.
Always ``aws:SecureTransport`` (the SDKs use HTTPS), ``aws:RequestedRegion``, and
``aws:PrincipalOrgID`` / ``aws:ResourceAccount`` when known. The policies are those of the
caller's role, the endpoint on the path (its default policy allows everything), the resource's
own policy when the environment declares it, and the organization's SCPs and RCPs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accesspath.catalog.calls import IamRequest
from accesspath.catalog.endpoint_services import (
    EndpointService,
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.engine import (
    AuthorizationRequest,
    AuthorizationResult,
    ContextValue,
    PolicySet,
    RequestContext,
    authorize,
)
from accesspath.environment.callers import Caller
from accesspath.environment.model import Environment, ResourcePolicyHolder
from accesspath.environment.network import NetworkPath, PathKind, find_path
from accesspath.errors import UsageError
from accesspath.policy import Policy, PolicyType, parse_policy

# The policy AWS attaches to an endpoint when none is given (PrivateLink guide, "Control access to
# VPC endpoints using endpoint policies": the default policy allows full access).
DEFAULT_ENDPOINT_POLICY = parse_policy(
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
    policy_type=PolicyType.VPC_ENDPOINT, policy_id="default endpoint policy (full access)")

# A documentation address (RFC 5737) standing for the NAT or instance public IP.
PUBLIC_SOURCE_IP = "203.0.113.10"


@dataclass(frozen=True)
class CallDecision:
    request: IamRequest
    caller: Caller
    decision: str                       # allowed, explicitDeny, implicitDeny, unreachable, undetermined
    path: NetworkPath | None
    result: AuthorizationResult | None
    message: str
    resource_owner: str | None
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass
class Decider:
    """Decides requests in one environment, compiling each combination of policies once."""

    env: Environment
    endpoint_services: EndpointServiceTable = field(default_factory=default_endpoint_services)
    resource_account: str | None = None
    _policy_sets: dict[tuple[object, ...], PolicySet] = field(default_factory=dict)

    def decide(self, caller: Caller, request: IamRequest, *, region: str | None = None, via: str | None = None,
               explain: bool = False) -> CallDecision:
        """Decide ``request`` from ``caller``; ``via`` pins the endpoint service (``ecr.dkr`` for an image
        pull, where ``ecr:BatchGetImage`` would otherwise be taken as an SDK call through ``ecr.api``)."""
        env = self.env
        region = region or env.region
        path = None
        notes: list[str] = []
        if caller.placement is not None:
            if via is not None:
                pinned = self.endpoint_services.by_id(via, region)
                if pinned is None:
                    raise UsageError(f"unknown endpoint service '{via}' (known: "
                                     f"{', '.join(s.id for s in self.endpoint_services.in_region(region))})")
                services: tuple[EndpointService, ...] = (pinned,)
            else:
                services = self.endpoint_services.for_action(request.action, region)
            path = find_path(env, caller.placement, services, region)
            notes.extend(path.notes)
            if not path.reachable:
                return CallDecision(request, caller, "unreachable", path, None,
                                    f"{request.action} cannot reach AWS from {caller.placement.subnet_id}: {path.reason}",
                                    None, tuple(notes))
        else:
            notes.append("the caller has no network placement: no endpoint policy is applied")

        if request.unresolved:
            return self._decide_unresolved(caller, request, path, region, notes, explain)
        owner, owner_note = self.owner_of(request.resource)
        if owner_note:
            notes.append(owner_note)
        holder = self.resource_holder(request.resource, request.action)
        context = self.context(caller, request, path, region, owner)
        principal = caller.principal
        if owner is None and principal.is_iam:
            # The owner decides between same-account and cross-account logic; say so, never guess.
            same = self._authorize(caller, request, path, holder, principal.account, context, explain)
            other = self._authorize(caller, request, path, holder, "000000000000", context, explain)
            if same.decision is other.decision:
                return self._decision(caller, request, path, same, None, notes)
            return CallDecision(request, caller, "undetermined", path, same,
                                f"the owner of '{request.resource}' is unknown: {same.decision.value} if it is"
                                f" {principal.account}, {other.decision.value} if another account owns it"
                                " (give --resource-account)", None, tuple(notes))
        result = self._authorize(caller, request, path, holder, owner, context, explain)
        return self._decision(caller, request, path, result, owner, notes)

    def _decide_unresolved(self, caller: Caller, request: IamRequest, path: NetworkPath | None, region: str,
                           notes: list[str], explain: bool) -> CallDecision:
        """A request whose resource is not known: the answer on ``"*"`` when no statement scoped to a
        resource could change it, else ``undetermined`` (never ``allowed`` on a resource not seen)."""
        from accesspath.catalog.service_catalog import get_catalog
        from accesspath.engine.unknown_resource import dependent_statements, overlaps

        owner = self.env.account
        context = self.context(caller, request, path, region, None)
        result = self._authorize(caller, request, path, None, owner, context, explain)
        notes.append(request.unresolved)
        if get_catalog().find_action(request.action) is None:
            return CallDecision(request, caller, "undetermined", path, result,
                                f"{request.unresolved} (it would be {result.decision.value} on '*')", None, tuple(notes))
        pattern = request.resource_pattern or "*"
        policies = self.policy_set(caller, path, None, owner)
        dependents = list(dependent_statements(policies, request.action, pattern))
        # A resource policy of the environment applies if the resource is one of its resources.
        for holder in self.env.resources.values():
            if holder.policy is None or not any(overlaps(holder.arn + suffix, alternative)
                                                for alternative in pattern.split(" | ") for suffix in ("", "/*")):
                continue
            dependents.extend(dependent_statements((holder.policy,), request.action, "*"))
        deciding = {f"{m.policy.policy_id} {m.statement.label}" for m in result.deciding_statements}
        if not dependents or (result.decision.value == "explicitDeny" and deciding - set(dependents)):
            return self._decision(caller, request, path, result, owner, notes)
        shown = ", ".join(dependents[:3]) + (f" and {len(dependents) - 3} more" if len(dependents) > 3 else "")
        return CallDecision(request, caller, "undetermined", path, result,
                            f"{request.unresolved}: {shown} could decide differently on the real resource"
                            f" ({result.decision.value} if none of them applies)", None, tuple(notes))

    def _decision(self, caller: Caller, request: IamRequest, path: NetworkPath | None, result: AuthorizationResult,
                  owner: str | None, notes: list[str]) -> CallDecision:
        return CallDecision(request, caller, result.decision.value, path, result, result.message or "", owner,
                            tuple(notes))

    def _authorize(self, caller: Caller, request: IamRequest, path: NetworkPath | None,
                   holder: ResourcePolicyHolder | Policy | None, owner: str | None, context: RequestContext,
                   explain: bool) -> AuthorizationResult:
        policies = self.policy_set(caller, path, holder, owner)
        return authorize(AuthorizationRequest(caller.principal, request.action, request.resource, context),
                         policies, explain=explain)

    def policy_set(self, caller: Caller, path: NetworkPath | None, holder: ResourcePolicyHolder | Policy | None,
                   owner: str | None) -> PolicySet:
        endpoint = path.endpoint if path is not None and path.kind in (
            PathKind.INTERFACE_ENDPOINT, PathKind.GATEWAY_ENDPOINT) else None
        key = (caller.role.name if caller.role else caller.principal.arn, endpoint.id if endpoint else None,
               id(holder), owner)
        found = self._policy_sets.get(key)
        if found is not None:
            return found
        role = caller.role
        resource_policies: list[Policy] = []
        if isinstance(holder, Policy):
            resource_policies.append(holder)
        elif holder is not None and holder.policy is not None:
            resource_policies.append(holder.policy)
        elif holder is not None and holder.kind == "kms-key":
            resource_policies.append(_no_key_policy(holder))
        policies = PolicySet.of(
            identity=role.policies if role else (),
            permissions_boundary=(role.permissions_boundary,) if role and role.permissions_boundary else None,
            resource=resource_policies,
            resource_owner=owner,
            scps=self.env.scps,
            rcps=self.env.rcps,
            vpc_endpoint=None if endpoint is None else (endpoint.policy or DEFAULT_ENDPOINT_POLICY,),
        )
        self._policy_sets[key] = policies
        return policies

    def owner_of(self, resource: str) -> tuple[str | None, str]:
        """The account that owns a resource: from its ARN, the environment, or --resource-account."""
        if resource == "*":
            return self.env.account, ""
        parts = resource.split(":", 5)
        if len(parts) == 6 and parts[4]:
            return parts[4], ""
        if self.resource_holder(resource, "") is not None:
            return self.env.account, ""
        if self.resource_account:
            return self.resource_account, f"'{resource}' is taken to belong to {self.resource_account} (--resource-account)"
        return None, f"the ARN '{resource}' names no account and the templates do not declare it"

    def resource_holder(self, resource: str, action: str) -> ResourcePolicyHolder | Policy | None:
        env = self.env
        if action.lower().startswith("sts:assumerole"):
            role = env.role_by_name_or_arn(resource)
            return role.trust_policy if role is not None else None
        if resource in env.resources:
            return env.resources[resource]
        if resource.startswith(f"arn:{env.partition}:s3:::"):
            bucket = resource.split(":::", 1)[1].split("/", 1)[0]
            return env.resources.get(f"arn:{env.partition}:s3:::{bucket}")
        return None

    def context(self, caller: Caller, request: IamRequest, path: NetworkPath | None, region: str,
                owner: str | None) -> RequestContext:
        values: dict[str, ContextValue | str | tuple[str, ...]] = {
            "aws:SecureTransport": ContextValue(("true",), type_name="boolean"),
            "aws:RequestedRegion": region,
        }
        if self.env.organization_id and caller.principal.is_iam:
            values["aws:PrincipalOrgID"] = self.env.organization_id
        if owner:
            values["aws:ResourceAccount"] = owner
        if path is not None:
            if path.kind in (PathKind.INTERFACE_ENDPOINT, PathKind.GATEWAY_ENDPOINT) and path.endpoint is not None:
                values["aws:SourceVpce"] = path.endpoint.id
                values["aws:SourceVpc"] = path.endpoint.vpc_id
                subnet = self.env.subnets.get(caller.placement.subnet_id) if caller.placement else None
                address = (caller.placement.address if caller.placement and caller.placement.address
                           else subnet.sample_address() if subnet else None)
                if address:
                    values["aws:VpcSourceIp"] = ContextValue((address,), type_name="ip")
            elif path.kind in (PathKind.NAT_GATEWAY, PathKind.INTERNET_GATEWAY):
                values["aws:SourceIp"] = ContextValue((PUBLIC_SOURCE_IP,), type_name="ip")
        for key, call_values in request.context.items():
            values[key] = ContextValue(tuple(call_values), multivalued=len(call_values) != 1)
        return RequestContext.of(values)


def _no_key_policy(holder: ResourcePolicyHolder) -> Policy:
    # A KMS key always has a key policy; one the templates do not give is the default, which
    # enables IAM policies of the key's account (KMS developer guide, "Default key policy").
    account = holder.arn.split(":")[4]
    return parse_policy({"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]},
        policy_type=PolicyType.KMS_KEY, policy_id=f"default key policy of {holder.arn}")
