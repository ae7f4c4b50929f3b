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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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
from accesspath.engine.authorize import is_kms_key_arn
from accesspath.environment.callers import Caller
from accesspath.environment.model import Environment, ResourcePolicyHolder, VpcEndpoint
from accesspath.environment.names import resolve_request
from accesspath.environment.network import NetworkPath, PathKind, find_path
from accesspath.environment.unknowns import Unknown, bound, unknown_policy, unknowns_of
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
    unknowns: tuple[Unknown, ...] = ()   # what an undetermined decision depends on, and how to supply it

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass
class Decider:
    """Decides requests in one environment, compiling each combination of policies once."""

    env: Environment
    endpoint_services: EndpointServiceTable = field(default_factory=default_endpoint_services)
    resource_account: str | None = None
    # A KMS key the templates do not define has a key policy accesspath was not given (undetermined
    # where it matters), unless the user asks to assume AWS's default key policy for it.
    assume_default_key_policy: bool = False
    _policy_sets: dict[tuple[object, ...], PolicySet] = field(default_factory=dict)
    _unknown_holders: dict[str, Policy] = field(default_factory=dict)
    _uncached_sets: dict[int, tuple[PolicySet, PolicySet]] = field(default_factory=dict)

    def decide_many(self, caller: Caller, requests: Iterable[IamRequest], *,
                    region: str | None = None) -> list[CallDecision]:
        """Each of ``requests`` from ``caller``, decided exactly as :meth:`decide` decides it alone.

        For sweeps that ask each question once (the audit asks a role about every write action of a
        service): the answers are not kept in the policy sets' decision caches, where hundreds of
        thousands of results that never recur made a 500-service audit hold most of its memory.
        """
        return [self.decide(caller, request, region=region, remember=False) for request in requests]

    def decide(self, caller: Caller, request: IamRequest, *, region: str | None = None, via: str | None = None,
               explain: bool = False, remember: bool = True) -> CallDecision:
        """Decide ``request`` from ``caller``; ``via`` pins the endpoint service (``ecr.dkr`` for an image
        pull, where ``ecr:BatchGetImage`` would otherwise be taken as an SDK call through ``ecr.api``).
        ``remember=False`` leaves the answer out of the decision caches (a question asked once)."""
        env = self.env
        region = region or env.region
        request = resolve_request(env, request)
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
            if path.kind is PathKind.UNDETERMINED:
                return CallDecision(request, caller, "undetermined", path, None,
                                    f"the network path is undetermined: {path.reason}", None, tuple(notes),
                                    path.unknowns)
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
            same = self._bounded(caller, request, path, holder, principal.account, context, explain, remember)
            other = self._bounded(caller, request, path, holder, "000000000000", context, explain, remember)
            if same.determined and other.determined and same.result.decision is other.result.decision:
                return self._decision(caller, request, path, same.result, None, notes)
            if same.determined and other.determined:
                return CallDecision(request, caller, "undetermined", path, same.result,
                                    f"the owner of '{request.resource}' is unknown: {same.result.decision.value} if it"
                                    f" is {principal.account}, {other.result.decision.value} if another account owns"
                                    " it (give --resource-account)", None, tuple(notes))
            return self._undetermined(caller, request, path, same if not same.determined else other, None, notes)
        outcome = self._bounded(caller, request, path, holder, owner, context, explain, remember)
        if not outcome.determined:
            return self._undetermined(caller, request, path, outcome, owner, notes)
        if path is not None and path.unknowns and outcome.result.allowed:
            # Allowed if the path is open; it may be blocked by what was not given.
            return self._undetermined(caller, request, path, _Bounded(outcome.result, None, path.unknowns),
                                      owner, notes)
        return self._decision(caller, request, path, outcome.result, owner, notes)

    def _decide_unresolved(self, caller: Caller, request: IamRequest, path: NetworkPath | None, region: str,
                           notes: list[str], explain: bool) -> CallDecision:
        """A request whose resource is not known: the answer on ``"*"`` when no statement scoped to a
        resource could change it, else ``undetermined`` (never ``allowed`` on a resource not seen)."""
        from accesspath.catalog.service_catalog import get_catalog
        from accesspath.engine.unknown_resource import alternatives_of, decide_unknown_resource, overlaps

        owner = self.env.account
        context = self.context(caller, request, path, region, None)
        pattern = request.resource_pattern or "*"
        # A resource policy of the environment applies if the resource is one of its resources.
        also = tuple(holder.policy for holder in self.env.resources.values()
                     if holder.policy is not None and any(overlaps(holder.arn + suffix, alternative)
                                                          for alternative in alternatives_of(pattern)
                                                          for suffix in ("", "/*")))
        result, dependents = decide_unknown_resource(
            AuthorizationRequest(caller.principal, request.action, pattern, context),
            self.policy_set(caller, path, None, owner), pattern, explain=explain, also=also)
        missing = (Unknown(request.unresolved, "give the resource's full ARN in the call, or load the template that"
                           " defines it"),)
        if get_catalog().find_action(request.action) is None:
            return CallDecision(request, caller, "undetermined", path, result,
                                f"{request.unresolved} (it would be {result.decision.value} on '*')", None,
                                tuple(notes), missing)
        if not dependents:
            notes.append(f"{request.unresolved}; no statement depends on which resource it is")
            return self._decision(caller, request, path, result, owner, notes)
        shown = ", ".join(dependents[:3]) + (f" and {len(dependents) - 3} more" if len(dependents) > 3 else "")
        return CallDecision(request, caller, "undetermined", path, result,
                            f"the resource is not known: {shown} could decide differently on the real resource"
                            f" ({result.decision.value} if none of them applies)", None, tuple(notes), missing)

    def explained(self, decision: CallDecision) -> AuthorizationResult | None:
        """``decision``'s authorization again with the engine's explanation: every policy it evaluated, per
        gate, with statement traces (the same request and the same policy set, so the same decision)."""
        if decision.result is None:
            return None
        if decision.result.policies:
            return decision.result
        holder = self.resource_holder(decision.request.resource, decision.request.action)
        policies = self.policy_set(decision.caller, decision.path, holder, decision.resource_owner)
        return authorize(decision.result.request, policies, explain=True)

    def _decision(self, caller: Caller, request: IamRequest, path: NetworkPath | None, result: AuthorizationResult,
                  owner: str | None, notes: list[str]) -> CallDecision:
        return CallDecision(request, caller, result.decision.value, path, result, result.message or "", owner,
                            tuple(notes))

    def _undetermined(self, caller: Caller, request: IamRequest, path: NetworkPath | None, outcome: _Bounded,
                      owner: str | None, notes: list[str]) -> CallDecision:
        restrictive = outcome.restrictive
        other = restrictive.decision.value if restrictive is not None else "unreachable"
        return CallDecision(request, caller, "undetermined", path, outcome.result,
                            f"{outcome.result.decision.value} or {other}, depending on what"
                            f" accesspath was not given: {'; '.join(u.what for u in outcome.unknowns)}",
                            owner, tuple(notes), outcome.unknowns)

    def _bounded(self, caller: Caller, request: IamRequest, path: NetworkPath | None,
                 holder: ResourcePolicyHolder | Policy | None, owner: str | None, context: RequestContext,
                 explain: bool, remember: bool = True) -> _Bounded:
        """Decide on the policies as given; where some hold unknowns, on both bounds (docs/environment.md)."""
        unknowns = unknowns_of(self._policies(caller, path, holder))
        if not unknowns:
            return _Bounded(self._authorize(caller, request, path, holder, owner, context, explain, None, remember))
        permissive = self._authorize(caller, request, path, holder, owner, context, explain, True, remember)
        restrictive = self._authorize(caller, request, path, holder, owner, context, explain, False, remember)
        if (permissive.decision.value == "allowed") == (restrictive.decision.value == "allowed"):
            # Both bounds agree: the unknowns do not matter to this request. Show the bound whose
            # deciding statements are all known ones (an allow that holds even without the unknown
            # allows, a denial that holds even without the unknown denies).
            return _Bounded(restrictive if restrictive.decision.value == "allowed" else permissive)
        return _Bounded(permissive, restrictive, _deciding_unknowns(unknowns, permissive, restrictive))

    def _authorize(self, caller: Caller, request: IamRequest, path: NetworkPath | None,
                   holder: ResourcePolicyHolder | Policy | None, owner: str | None, context: RequestContext,
                   explain: bool, permissive: bool | None = None, remember: bool = True) -> AuthorizationResult:
        policies = self.policy_set(caller, path, holder, owner, permissive)
        if not remember:
            policies = self._forgetful(policies)
        return authorize(AuthorizationRequest(caller.principal, request.action, request.resource, context),
                         policies, explain=explain)

    def _policies(self, caller: Caller, path: NetworkPath | None,
                  holder: ResourcePolicyHolder | Policy | None) -> list[Policy | None]:
        role = caller.role
        endpoint = _endpoint_on(path)
        out: list[Policy | None] = list(role.policies) if role else []
        out.append(role.permissions_boundary if role else None)
        out.append(holder if isinstance(holder, Policy) else holder.policy if holder is not None else None)
        out.append(endpoint.policy if endpoint is not None else None)
        return out

    def policy_set(self, caller: Caller, path: NetworkPath | None, holder: ResourcePolicyHolder | Policy | None,
                   owner: str | None, permissive: bool | None = None) -> PolicySet:
        """The policies of one request; ``permissive`` picks a bound of policies that hold unknowns."""
        endpoint = _endpoint_on(path)
        key = (caller.role.name if caller.role else caller.principal.arn, endpoint.id if endpoint else None,
               id(holder), owner, permissive)
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

        def pick(policy: Policy) -> Policy:
            return policy if permissive is None else bound(policy, permissive)

        policies = PolicySet.of(
            identity=tuple(pick(p) for p in role.policies) if role else (),
            permissions_boundary=(pick(role.permissions_boundary),) if role and role.permissions_boundary else None,
            resource=[pick(p) for p in resource_policies],
            resource_owner=owner,
            scps=self.env.scps,
            rcps=self.env.rcps,
            vpc_endpoint=None if endpoint is None else (pick(endpoint.policy or DEFAULT_ENDPOINT_POLICY),),
        )
        self._policy_sets[key] = policies
        return policies

    def _forgetful(self, policies: PolicySet) -> PolicySet:
        """The same compiled policies without a decision cache (one per policy set, made once)."""
        found = self._uncached_sets.get(id(policies))
        if found is None or found[0] is not policies:
            found = self._uncached_sets[id(policies)] = (policies, replace(policies, decision_cache={},
                                                                           decision_cache_size=0))
        return found[1]

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
            if role is None and _names_one(resource) and ":role/" in resource:
                return self._unknown_holder(resource, PolicyType.ROLE_TRUST, Unknown(
                    f"the trust policy of role '{resource}', which the templates do not define",
                    "load the template that defines it, or give --authorization-details FILE"))
            return role.trust_policy if role is not None else None
        if resource in env.resources:
            return env.resources[resource]
        if action.lower().startswith("kms:") and _names_one(resource) and (":key/" in resource or
                                                                            ":alias/" in resource):
            # KMS reads IAM policies only where the key policy lets it (KMS developer guide, "Key
            # policies"): a key defined elsewhere has a key policy accesspath was not given.
            if self.assume_default_key_policy and is_kms_key_arn(resource):
                found = self._unknown_holders.get(resource)
                if found is None:
                    found = self._unknown_holders[resource] = default_key_policy(resource)
                return found
            return self._unknown_holder(resource, PolicyType.KMS_KEY, Unknown(
                f"the key policy of '{resource}', which the templates do not define",
                "load the template that defines the key, or give --assume-default-key-policy to take AWS's"
                " default key policy (the key's account decides with IAM policies)"))
        if resource.startswith(f"arn:{env.partition}:s3:::"):
            bucket = resource.split(":::", 1)[1].split("/", 1)[0]
            return env.resources.get(f"arn:{env.partition}:s3:::{bucket}")
        return None

    def _unknown_holder(self, resource: str, policy_type: PolicyType, unknown: Unknown) -> Policy:
        found = self._unknown_holders.get(resource)
        if found is None:
            found = self._unknown_holders[resource] = unknown_policy(f"{policy_type.label} of {resource}",
                                                                     policy_type, unknown)
        return found

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


@dataclass(frozen=True)
class _Bounded:
    """A decision on the policies as given (``restrictive`` is None), or on both bounds that disagree."""

    result: AuthorizationResult               # the decision, or its permissive bound
    restrictive: AuthorizationResult | None = None
    unknowns: tuple[Unknown, ...] = ()

    @property
    def determined(self) -> bool:
        return not self.unknowns


def _deciding_unknowns(unknowns: tuple[Unknown, ...], permissive: AuthorizationResult,
                       restrictive: AuthorizationResult) -> tuple[Unknown, ...]:
    """The unknowns inside the statements that made the bounds differ (all of them when none is
    inside one: a whole policy that was not given)."""
    spans = [(m.statement.start, m.statement.end)
             for result in (permissive, restrictive) for m in result.deciding_statements
             if m.statement.start is not None and m.statement.end is not None]

    def inside(unknown: Unknown) -> bool:
        at = unknown.position
        return at is not None and any(
            start.source == at.source and (start.line, start.column) <= (at.line, at.column) <= (end.line, end.column)
            for start, end in spans if start is not None and end is not None)

    found = tuple(u for u in unknowns if inside(u))
    return found or unknowns


def _names_one(resource: str) -> bool:
    """An ARN of one resource: a pattern (``key/*``, as ``access`` samples) names no key in particular."""
    return resource.startswith("arn:") and "*" not in resource and "?" not in resource


def _endpoint_on(path: NetworkPath | None) -> VpcEndpoint | None:
    if path is not None and path.kind in (PathKind.INTERFACE_ENDPOINT, PathKind.GATEWAY_ENDPOINT):
        return path.endpoint
    return None


def _no_key_policy(holder: ResourcePolicyHolder) -> Policy:
    # A KMS key always has a key policy; one the templates do not give is the default, which
    # enables IAM policies of the key's account (KMS developer guide, "Default key policy").
    return default_key_policy(holder.arn)


def default_key_policy(key_arn: str) -> Policy:
    """AWS's default key policy (KMS developer guide, key-policy-default.html): it gives the key's
    account root full access, which lets the account's IAM policies decide."""
    parts = key_arn.split(":")
    partition, account = parts[1], parts[4]
    return parse_policy({"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]},
        policy_type=PolicyType.KMS_KEY, policy_id=f"default key policy of {key_arn}")
