"""Every request a caller of an environment can make, as a finite set of symbolic cases.

A case fixes what the environment makes concrete and leaves the rest to the solver:

* the caller (an ECS service, task definition, instance or role of the environment, or an outsider);
* the action: the catalog's actions are finite, and actions that every policy in reach treats alike
  (same statements match, same path, same resource types) form one class decided once;
* the network path the action's calls take from the caller (unreachable calls are never allowed);
* the shape of the resource: one ARN template of the Service Authorization Reference, its
  placeholders symbolic, the region the environment's;
* which resource-based policy of the environment applies (or none), and who owns the resource.

Context keys that the environment and the path set are fixed exactly as
:class:`accesspath.environment.decide.Decider` sets them; keys the caller's own request decides
(tags, service keys, times) are free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import z3

from accesspath.catalog.calls import IamRequest
from accesspath.catalog.endpoint_services import EndpointService
from accesspath.catalog.service_catalog import ServiceCatalog
from accesspath.engine.authorize import PolicySet, _principal_context
from accesspath.engine.evaluate import action_matches
from accesspath.engine.request import ContextValue, RequestContext, RequestPrincipal
from accesspath.environment.callers import Caller
from accesspath.environment.decide import Decider
from accesspath.environment.model import ResourcePolicyHolder
from accesspath.environment.network import NetworkPath, find_path
from accesspath.environment.unknowns import unknowns_of
from accesspath.policy import Policy
from accesspath.policy.patterns import NO_VALUE, VariableLookup
from accesspath.prove.encode import SymbolicRequest
from accesspath.prove.patterns import char_except
from accesspath.prove.symbols import SymbolicContext

# Global keys whose presence and value the caller and its path decide: absent unless the
# environment sets them (reference_policies_condition-keys.md). A task calling AWS directly is not
# a service acting on someone's behalf, has no MFA and no federated provider.
DETERMINED_KEYS = frozenset(k.lower() for k in (
    "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:SecureTransport",
    "aws:RequestedRegion", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceAccount",
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalIsAWSService", "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList", "aws:PrincipalType", "aws:userid", "aws:username", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:ViaAWSService", "aws:CalledVia",
    "aws:CalledViaFirst", "aws:CalledViaLast", "aws:FederatedProvider", "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:SourceIdentity", "aws:TokenIssueTime",
    "aws:AssumedRoot",
))

# Global keys that may carry several values (reference_policies_condition-keys.md).
_MULTIVALUED_GLOBAL = frozenset(k.lower() for k in (
    "aws:TagKeys", "aws:CalledVia", "aws:PrincipalOrgPaths", "aws:ResourceOrgPaths", "aws:SourceOrgPaths",
    "aws:PrincipalServiceNamesList", "aws:VpceOrgPaths",
))

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Owner:
    """Who owns the resource of a case: a known account, or the symbolic account of its ARN."""

    account: str | None                 # None: the ARN's ${Account} (symbolic)
    assumed: bool = False               # chosen by the proof for a resource whose ARN names no account

    def describe(self) -> str:
        return self.account or "the account in the resource's ARN"


@dataclass
class Case:
    caller: Caller
    actions: tuple[str, ...]            # the class; actions[0] stands for all of them
    path: NetworkPath | None
    template: str | None                # the resource's ARN template; None for "*"
    holder: ResourcePolicyHolder | Policy | None
    owner: Owner
    policies: PolicySet
    request: SymbolicRequest
    resource: z3.SeqRef
    account: z3.SeqRef | None
    domain: list[z3.BoolRef] = field(default_factory=list)
    same_account: z3.BoolRef = field(default_factory=lambda: z3.BoolVal(True))
    # The concrete context the engine gets for a witness: (resource, free values, owner) -> context.
    concrete_context: Callable[[str, dict[str, list[str]], str | None], RequestContext] = field(
        default=lambda resource, values, owner: RequestContext())
    # The resource's policy is not the environment's (another account's own, or an outsider asks).
    hypothetical: bool = False
    # The resource's name parts (ARN placeholders): a witness prefers readable values for them.
    names: tuple[z3.SeqRef, ...] = ()
    # Where policies hold values accesspath was not given: the permissive and the restrictive bound
    # (environment/unknowns.py), and what is missing.
    bounds: tuple[PolicySet, PolicySet] | None = None
    unknowns: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        return self.actions[0]


class CaseBuilder:
    """Builds the cases of one environment (through its :class:`Decider`)."""

    def __init__(self, decider: Decider, catalog: ServiceCatalog, region: str | None = None) -> None:
        self.decider = decider
        self.env = decider.env
        self.catalog = catalog
        self.region = region or self.env.region
        self._counter = 0
        self._services_by_prefix: dict[str, tuple[EndpointService, ...]] = {}
        self._paths: dict[tuple[object, ...], NetworkPath] = {}
        self._templates: dict[str, tuple[str | None, ...]] = {}

    # -- paths and action classes ------------------------------------------------------------------

    def endpoint_services(self, action: str) -> tuple[EndpointService, ...]:
        """``EndpointServiceTable.for_action``, with the services that can carry the action's prefix
        looked up once per prefix."""
        prefix = action.partition(":")[0].lower()
        candidates = self._services_by_prefix.get(prefix)
        if candidates is None:
            candidates = tuple(s for s in self.decider.endpoint_services.in_region(self.region)
                               if s.iam_actions or prefix in s.iam_prefixes)
            self._services_by_prefix[prefix] = candidates
        return tuple(sorted((s for s in candidates if s.carries_action(action)), key=lambda s: not s.iam_actions))

    def path(self, caller: Caller, action: str) -> NetworkPath | None:
        if caller.placement is None:
            return None
        services = self.endpoint_services(action)
        key = (caller.placement, tuple(s.id for s in services))
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = find_path(self.env, caller.placement, services, self.region)
        return found

    def templates(self, action: str) -> tuple[str | None, ...]:
        found = self._templates.get(action)
        if found is None:
            found = self._templates[action] = self._action_templates(action)
        return found

    def _action_templates(self, action: str) -> tuple[str | None, ...]:
        found = self.catalog.find_action(action)
        if found is None or found.takes_no_resource:
            return (None,)
        rows = self.catalog.action_resource_types(found)
        templates = tuple(dict.fromkeys(resource_type.arn_template for _, resource_type in rows))
        return templates or (None,)

    def holders(self, action: str) -> tuple[ResourcePolicyHolder | Policy | None, ...]:
        """The resource-based policies of the environment a request for ``action`` can meet."""
        prefix = action.split(":", 1)[0].lower()
        if action.lower().startswith("sts:assumerole"):
            return tuple(r.trust_policy for r in self.env.roles.values())
        return tuple(h for h in self.env.resources.values() if h.arn.split(":")[2] == prefix)

    def action_classes(self, caller: Caller, actions: Iterable[str],
                       extra_policies: Sequence[Policy] = ()) -> list[tuple[str, ...]]:
        """Group ``actions`` into classes no policy in reach (nor the path) can tell apart."""
        groups: dict[tuple[object, ...], list[str]] = {}
        for action in actions:
            path = self.path(caller, action)
            if path is not None and not path.reachable:
                continue
            policies = self._policies_in_reach(caller, path, action) + list(extra_policies)
            matched = tuple((id(p), s.index) for p in policies for s in p.statements if s.valid
                            and action_matches(s, action))
            key = (_path_key(path), self.templates(action), tuple(id(h) for h in self.holders(action)),
                   action.split(":", 1)[0].lower(), action.lower().startswith("sts:assumerole"), matched)
            groups.setdefault(key, []).append(action)
        named = self._named_actions(caller, extra_policies)
        # The first action stands for its class in witnesses: prefer one a policy names outright.
        return [tuple(sorted(group, key=lambda a: (a.lower() not in named, a))) for group in groups.values()]

    def _named_actions(self, caller: Caller, extra_policies: Sequence[Policy]) -> frozenset[str]:
        policies = list(caller.role.policies) if caller.role else []
        policies += list(extra_policies)
        policies += [e.policy for e in self.env.endpoints.values() if e.policy is not None]
        return frozenset(text.lower() for p in policies for s in p.statements for text in s.action.texts
                         if "*" not in text and "?" not in text)

    def _policies_in_reach(self, caller: Caller, path: NetworkPath | None, action: str) -> list[Policy]:
        found: list[Policy] = []
        role = caller.role
        if role is not None:
            found.extend(role.policies)
            if role.permissions_boundary is not None:
                found.append(role.permissions_boundary)
        if path is not None and path.endpoint is not None and path.endpoint.policy is not None:
            found.append(path.endpoint.policy)
        for levels in (self.env.scps or (), self.env.rcps or ()):
            for level in levels:
                found.extend(level)
        for holder in self.holders(action):
            policy = holder if isinstance(holder, Policy) else holder.policy if holder is not None else None
            if policy is not None:
                found.append(policy)
        return found

    # -- cases ---------------------------------------------------------------------------------------

    def cases(self, caller: Caller, actions: tuple[str, ...], *, outside_owner: str | None = None,
              inside_accounts: tuple[str, ...] = (), organization: str | None = None,
              tag: str | None = None) -> Iterator[Case]:
        """Every case of one action class from ``caller``.

        ``outside_owner`` asks for resources of another account only (the exfiltration question): the
        resource belongs to an account other than the environment's, named by its ARN or, for ARNs
        without an account, taken to be ``outside_owner``.
        """
        action = actions[0]
        path = self.path(caller, action)
        if path is not None and not path.reachable:
            return
        for number, template in enumerate(self.templates(action)):
            for holder, owner in self._holder_cases(caller, action, template, outside_owner):
                # Cases of one template share their symbols when a tag is given: a diff asks about one
                # request under two environments.
                case_tag = f"{tag}t{number}" if tag is not None else None
                case = self._case(caller, actions, path, template, holder, owner, outside_owner, tag=case_tag)
                if outside_owner is not None:
                    inside = {self.env.account, *inside_accounts}
                    if case.account is not None:
                        case.domain.extend(case.account != z3.StringVal(a) for a in sorted(inside))
                    if organization:
                        case.request.context.exclude("aws:resourceorgid", (organization,))
                yield case

    def _holder_cases(self, caller: Caller, action: str, template: str | None,
                      outside_owner: str | None) -> Iterator[tuple[ResourcePolicyHolder | Policy | None, Owner]]:
        env = self.env
        account_in_arn = template is not None and "${Account}" in template
        if outside_owner is not None:
            if template is not None:  # an action on no resource ("*") writes nowhere
                yield None, Owner(None if account_in_arn else outside_owner, assumed=not account_in_arn)
            return
        if template is None:
            yield None, Owner(env.account)
            return
        holders = [h for h in self.holders(action) if h is not None]
        for holder in holders:
            yield holder, Owner(None if account_in_arn else env.account)
        if account_in_arn:
            yield None, Owner(None)
        else:
            # The ARN names no account and the environment does not declare the resource: the proof
            # considers both owners, and the witness says which it took.
            principal_account = caller.principal.account or env.account
            other = "000000000000" if principal_account != "000000000000" else "000000000001"
            yield None, Owner(principal_account, assumed=True)
            yield None, Owner(other, assumed=True)

    def outsider_cases(self, outsider: Outsider, actions: tuple[str, ...],
                       holder: ResourcePolicyHolder | Policy, path: NetworkPath | None) -> Iterator[Case]:
        """The cases of a principal of another account reaching ``holder`` (over the internet when
        ``path`` is None, else through the environment's endpoint on ``path``)."""
        action = actions[0]
        account_in_arn = False
        for template in self.templates(action):
            account_in_arn = template is not None and "${Account}" in template
            owner = Owner(None if account_in_arn else self.env.account)
            case = self._case(outsider.caller, actions, path, template, holder, owner, None, outsider=outsider)
            yield case

    def _case(self, caller: Caller, actions: tuple[str, ...], path: NetworkPath | None, template: str | None,
              holder: ResourcePolicyHolder | Policy | None, owner: Owner, outside_owner: str | None,
              outsider: Outsider | None = None, tag: str | None = None) -> Case:
        self._counter += 1
        tag = tag or f"c{self._counter}"
        action = actions[0]
        resource = z3.String(f"{tag}!resource")
        domain: list[z3.BoolRef] = []
        account: z3.SeqRef | None = None
        names: tuple[z3.SeqRef, ...] = ()
        if template is None:
            domain.append(resource == z3.StringVal("*"))
        else:
            term, account, constraints, names = self._template_term(template, tag)
            domain.append(resource == term)
            domain.extend(constraints)
        holder_arns = [self._holder_arn(h) for h in self.holders(action) if h is not None]
        if holder is not None:
            domain.append(_belongs(resource, self._holder_arn(holder)))
        else:
            domain.extend(z3.Not(_belongs(resource, arn)) for arn in holder_arns if arn)
        principal = caller.principal
        if owner.account is not None:
            same = z3.BoolVal(owner.account == principal.account)
        else:
            assert account is not None
            same = account == z3.StringVal(principal.account or "")
        if outside_owner is not None and owner.account is not None:
            same = z3.BoolVal(False)
        policies = self.decider.policy_set(caller, path, holder, owner.account)
        if outside_owner is not None:
            policies = _outside(policies)
        if outsider is not None:
            policies = outsider.policies(policies)
            fixed = outsider.fixed_context(self.decider.context(caller, IamRequest(action, "*"), path, self.region,
                                                                owner.account))
            context = SymbolicContext(fixed=_AbsentUnlessSet(fixed, outsider.free_keys), bounds={},
                                      multivalued=frozenset(), prefix=tag)
            for key, values in outsider.exclusions.items():
                context.exclude(key, values)
        else:
            fixed = self._fixed_context(caller, action, path, owner)
            context = SymbolicContext(fixed=_AbsentUnlessSet(fixed), bounds={}, multivalued=frozenset(), prefix=tag)
        if owner.account is None:
            assert account is not None
            context.link("aws:resourceaccount", account)
        context.bounds = clause_counts(policies)
        context.multivalued = frozenset(k for k in context.bounds if self._multivalued(k))
        request = SymbolicRequest(principal, action, resource, context, _lookup(fixed))
        decider, region = self.decider, self.region

        def concrete_context(resource_text: str, values: dict[str, list[str]], owner_account: str | None) -> RequestContext:
            call = IamRequest(action, resource_text, {k: tuple(v) for k, v in values.items()})
            found = decider.context(caller, call, path, region, owner_account)
            if outsider is not None:
                kept = outsider.fixed_context({k: found.get(k) for k in list(found.keys())})
                merged = {k: v for k, v in kept.items() if v is not None}
                for key, key_values in values.items():
                    merged[key] = ContextValue(tuple(key_values), multivalued=len(key_values) != 1)
                return RequestContext.of(merged)
            return found

        case = Case(caller, actions, path, template, holder, owner, policies, request, resource, account, domain, same,
                    concrete_context, hypothetical=outside_owner is not None or outsider is not None, names=names)
        missing = unknowns_of(self.decider._policies(caller, path, holder))
        if missing:
            bounds = []
            for permissive in (True, False):
                bounded = self.decider.policy_set(caller, path, holder, owner.account, permissive)
                if outside_owner is not None:
                    bounded = _outside(bounded)
                if outsider is not None:
                    bounded = outsider.policies(bounded)
                bounds.append(bounded)
            case.bounds = (bounds[0], bounds[1])
            case.unknowns = tuple(str(u) for u in missing)
        return case

    def _template_term(self, template: str,
                       tag: str) -> tuple[z3.SeqRef, z3.SeqRef | None, list[z3.BoolRef], tuple[z3.SeqRef, ...]]:
        parts: list[z3.SeqRef] = []
        names: list[z3.SeqRef] = []
        constraints: list[z3.BoolRef] = []
        account: z3.SeqRef | None = None
        position = 0
        matches = list(_PLACEHOLDER.finditer(template))
        for index, match in enumerate(matches):
            if match.start() > position:
                parts.append(z3.StringVal(template[position:match.start()]))
            name = match.group(1)
            end_of_next = matches[index + 1].start() if index + 1 < len(matches) else len(template)
            following = template[match.end():end_of_next]
            if name == "Partition":
                parts.append(z3.StringVal(self.env.partition))
            elif name == "Region":
                parts.append(z3.StringVal(self.region))
            elif name == "Account":
                if account is None:
                    account = z3.String(f"{tag}!account")
                    # Twelve digits, said as a length and a character class: the string solver settles
                    # prefix questions on this form at once, and may give up on a bounded loop.
                    constraints.append(z3.Length(account) == 12)
                    constraints.append(z3.InRe(account, z3.Star(z3.Range("0", "9"))))
                parts.append(account)
            else:
                variable = z3.String(f"{tag}!{name}#{index}")
                constraints.append(z3.InRe(variable, _placeholder_regex(name, following)))
                parts.append(variable)
                names.append(variable)
            position = match.end()
        if position < len(template):
            parts.append(z3.StringVal(template[position:]))
        term = parts[0] if len(parts) == 1 else z3.Concat(*parts)
        return term, account, constraints, tuple(names)

    def _holder_arn(self, holder: ResourcePolicyHolder | Policy) -> str:
        if isinstance(holder, Policy):
            role = next((r for r in self.env.roles.values() if r.trust_policy is holder), None)
            return role.arn if role is not None else ""
        return holder.arn

    def _fixed_context(self, caller: Caller, action: str, path: NetworkPath | None,
                       owner: Owner) -> dict[str, ContextValue | None]:
        context = self.decider.context(caller, IamRequest(action, "*"), path, self.region, owner.account)
        fixed: dict[str, ContextValue | None] = {key: context.get(key) for key in list(context.keys())}
        for key, value in _principal_context(caller.principal).items():
            fixed.setdefault(key, value)
        return fixed

    def _multivalued(self, key: str) -> bool:
        return multivalued_key(key, self.catalog)


class _AbsentUnlessSet(dict[str, ContextValue | None]):
    """Fixed keys: those set, and every determined global key (absent unless set) but ``free``."""

    def __init__(self, values: dict[str, ContextValue | None], free: frozenset[str] = frozenset()) -> None:
        super().__init__(values)
        self._free = free

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (key in DETERMINED_KEYS and key not in self._free)


@dataclass(frozen=True)
class Outsider:
    """A principal of another account: its own identity policies allow anything (it writes them), it
    has no permissions boundary, session policy or SCP of ours; the keys its own request decides are free."""

    caller: Caller
    free_keys: frozenset[str]
    exclusions: dict[str, tuple[str, ...]]

    def policies(self, policies: PolicySet) -> PolicySet:
        from dataclasses import replace

        from accesspath.engine.evaluate import CompiledPolicy
        return replace(policies, identity=(CompiledPolicy(OUTSIDER_IDENTITY),), permissions_boundary=None,
                       session=None, scps=None, decision_cache={})

    def fixed_context(self, context: dict[str, ContextValue | None] | RequestContext) -> dict[str, ContextValue | None]:
        values = {k: context.get(k) for k in list(context.keys())} if isinstance(context, RequestContext) else dict(context)
        for key in ("aws:principalorgid",) + tuple(self.free_keys):
            values.pop(key, None)
        for key, value in _principal_context(self.caller.principal).items():
            values[key] = value
        return values


def _allow_all(policy_type: object, policy_id: str) -> Policy:
    from accesspath.policy import PolicyType, parse_policy
    assert isinstance(policy_type, PolicyType)
    statement: dict[str, object] = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if policy_type.takes_principal:
        statement["Principal"] = "*"
    return parse_policy({"Version": "2012-10-17", "Statement": [statement]}, policy_type=policy_type,
                        policy_id=policy_id)


def _outsider_identity() -> Policy:
    from accesspath.policy import PolicyType
    return _allow_all(PolicyType.IDENTITY, "the outsider's own identity policy (allows anything)")


OUTSIDER_IDENTITY = _outsider_identity()


def multivalued_key(key: str, catalog: ServiceCatalog | None = None) -> bool:
    """Whether a request may carry several values for ``key``: the multivalued global keys, and the
    service keys the Service Authorization Reference types as ArrayOf...; an unknown service key may."""
    if key in _MULTIVALUED_GLOBAL:
        return True
    if key.startswith("aws:"):
        return False
    from accesspath.catalog.service_catalog import get_catalog
    found = (catalog or get_catalog()).condition_key(key, key.split(":", 1)[0])
    return True if found is None else found.is_multivalued


def _lookup(fixed: dict[str, ContextValue | None]) -> VariableLookup:
    def lookup(key: str) -> str | object | None:
        entry = fixed.get(key)
        if entry is None or not entry.values:
            return None
        single = entry.single
        return single if single is not None else NO_VALUE
    return lookup  # type: ignore[return-value]


def clause_counts(policies: PolicySet) -> dict[str, int]:
    counts: dict[str, int] = {}
    groups = [policies.identity, policies.permissions_boundary or (), policies.session or (), policies.resource,
              policies.vpc_endpoint or ()]
    groups += list(policies.scps or ()) + list(policies.rcps or ())
    for group in groups:
        for compiled in group:
            for statement in compiled.policy.statements:
                for clause in statement.conditions:
                    counts[clause.key_lower] = counts.get(clause.key_lower, 0) + 1
    return {key: count + 1 for key, count in counts.items()}


def _belongs(resource: z3.SeqRef, arn: str) -> z3.BoolRef:
    """The resource is ``arn`` itself or, for a bucket, an object in it (as Decider.resource_holder reads)."""
    if not arn:
        return z3.BoolVal(False)
    exact = resource == z3.StringVal(arn)
    if ":s3:::" in arn and "/" not in arn:
        return z3.Or(exact, z3.PrefixOf(z3.StringVal(arn + "/"), resource))
    return exact


def _placeholder_regex(name: str, following: str) -> z3.ReRef:
    """What one placeholder of an ARN template holds, as the catalog reads it
    (accesspath.catalog.arn_templates), in printable characters: resource names are made of them
    (S3 object keys of any character but controls)."""
    from accesspath.catalog.arn_templates import placeholder_regex
    source = placeholder_regex(name, following)
    printable = z3.Range(" ", "~")
    if source == r".+":
        one = z3.Intersect(z3.AllChar(z3.ReSort(z3.StringSort())), z3.Complement(z3.Range("\x00", "\x1f")))
    elif source == r"[^:]+":
        one = z3.Intersect(printable, char_except(":"))
    else:
        one = z3.Intersect(printable, char_except(":/"))
    return z3.Plus(one)


def _path_key(path: NetworkPath | None) -> object:
    if path is None:
        return None
    return (path.kind, path.endpoint.id if path.endpoint else None, path.gateway.id if path.gateway else None)


def _outside(policies: PolicySet) -> PolicySet:
    """The policies a request meets on another account's resource: the other account's own resource
    policy is the attacker's and allows anything; RCPs are the resource owner's, not ours."""
    from dataclasses import replace

    from accesspath.engine.evaluate import CompiledPolicy
    from accesspath.policy import PolicyType
    allow_all = _allow_all(PolicyType.RESOURCE, "the outside account's own resource policy (allows anything)")
    return replace(policies, resource=(CompiledPolicy(allow_all),), rcps=None, decision_cache={})


def principal_account(principal: RequestPrincipal) -> str:
    return principal.account or ""
