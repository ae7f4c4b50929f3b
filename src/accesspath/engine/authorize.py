"""The authorizer: combine every applicable policy into AWS's decision.

This is the one place where a decision is made; every accesspath feature asks it.
The order of the gates and their interplay follow docs/evaluation.md, which cites the IAM User
Guide page behind each rule (reference_policies_evaluation-logic.md,
reference_policies_evaluation-logic-cross-account.md, access_policies_boundaries.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from types import MappingProxyType

from accesspath.engine import beyond_policy
from accesspath.engine.evaluate import (
    CompiledPolicy,
    PolicyOutcome,
    StatementMatch,
    StatementTracer,
    compile_policy,
)
from accesspath.engine.principals import GrantKind
from accesspath.engine.request import (
    AuthorizationRequest,
    ContextValue,
    PrincipalKind,
    RequestPrincipal,
)
from accesspath.policy.model import Policy, PolicyType
from accesspath.policy.patterns import NO_VALUE, _NoValue


class Decision(str, Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


# Services whose resources RCPs govern (Organizations user guide, orgs_manage_policies_rcps.html,
# "List of AWS services that support RCPs").
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-identity",
                          "dynamodb", "logs"})

# Callers that have identity policies (and so may have a permissions boundary).
_HAS_IDENTITY = frozenset({PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER})

# The order in which an explicit deny is reported when several policy types deny (AWS names one).
_DENY_REPORT_ORDER = (PolicyType.SCP, PolicyType.RCP, PolicyType.VPC_ENDPOINT, PolicyType.PERMISSIONS_BOUNDARY,
                      PolicyType.SESSION, PolicyType.IDENTITY, PolicyType.RESOURCE, PolicyType.ROLE_TRUST,
                      PolicyType.KMS_KEY)


@dataclass(frozen=True)
class PolicySet:
    """Every policy that may apply to a request.

    ``None`` means "there is none of that kind" where absence matters: no permissions boundary,
    no session policy, not through a VPC endpoint, no SCPs/RCPs.
    """

    identity: tuple[CompiledPolicy, ...] = ()
    permissions_boundary: tuple[CompiledPolicy, ...] | None = None
    session: tuple[CompiledPolicy, ...] | None = None
    resource: tuple[CompiledPolicy, ...] = ()
    resource_owner: str | None = None
    scps: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    rcps: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    vpc_endpoint: tuple[CompiledPolicy, ...] | None = None
    management_account: str | None = None
    # What kind of resource-based policy the target has (role trust and KMS key policies must
    # allow even within one account); None: taken from ``resource``, else from the action.
    resource_policy_type: PolicyType | None = None
    # Decisions already made for identical requests (policies are immutable, so they cannot change).
    decision_cache: dict[tuple[object, ...], AuthorizationResult] = field(
        default_factory=dict, compare=False, repr=False)
    decision_cache_size: int = 8192
    decision_cache_use: _CacheUse = field(default_factory=lambda: _CacheUse(), compare=False, repr=False)

    @classmethod
    def of(cls, *, identity: Sequence[Policy] = (), permissions_boundary: Sequence[Policy] | None = None,
           session: Sequence[Policy] | None = None, resource: Sequence[Policy] = (),
           resource_owner: str | None = None, scps: Sequence[Sequence[Policy]] | None = None,
           rcps: Sequence[Sequence[Policy]] | None = None, vpc_endpoint: Sequence[Policy] | None = None,
           management_account: str | None = None, resource_policy_type: PolicyType | None = None) -> PolicySet:
        """Build a set from parsed policies, each compiled once per process (shared by every set
        that holds it, see :func:`~accesspath.engine.evaluate.compile_policy`)."""
        def compiled(policies: Sequence[Policy]) -> tuple[CompiledPolicy, ...]:
            return tuple(compile_policy(p) for p in policies)

        return cls(
            identity=compiled(identity),
            permissions_boundary=None if permissions_boundary is None else compiled(permissions_boundary),
            session=None if session is None else compiled(session),
            resource=compiled(resource),
            resource_owner=resource_owner,
            scps=None if scps is None else tuple(compiled(level) for level in scps),
            rcps=None if rcps is None else tuple(compiled(level) for level in rcps),
            vpc_endpoint=None if vpc_endpoint is None else compiled(vpc_endpoint),
            management_account=management_account,
            resource_policy_type=resource_policy_type,
        )


class GateStatus(str, Enum):
    ALLOW = "allow"              # the gate has a matching Allow
    DENY = "deny"                # the gate has a matching Deny
    NO_ALLOW = "no-allow"        # the gate applies and nothing in it allows
    NOT_APPLICABLE = "not-applicable"
    NOT_NEEDED = "not-needed"    # the gate applies but another gate's grant made it moot


@dataclass(frozen=True, slots=True)
class GateOutcome:
    gate: PolicyType
    status: GateStatus
    statements: tuple[StatementMatch, ...]
    note: str = ""


@dataclass(frozen=True)
class AuthorizationResult:
    request: AuthorizationRequest
    decision: Decision
    deciding_gate: PolicyType | None
    deciding_statements: tuple[StatementMatch, ...]
    errors: tuple[str, ...]
    missing_context_keys: tuple[str, ...]
    gates: tuple[GateOutcome, ...]
    policies: tuple[PolicyOutcome, ...] = field(default=())  # with statement traces when explaining
    # Facts beyond the policies: why no permission was needed, or that AWS refuses the call anyway
    # (engine/beyond_policy.py).
    notes: tuple[str, ...] = field(default=())
    # Why a decision was turned into a denial beyond the gates (a policy with errors), for the message.
    denial_note: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def message(self) -> str | None:
        """The access denied text AWS returns, None when allowed (written when asked for: most
        decisions are never shown)."""
        if self.decision is Decision.ALLOWED:
            return None
        return _message(self.request, self.decision, self.deciding_gate or PolicyType.IDENTITY, self.denial_note)


def authorize(request: AuthorizationRequest, policies: PolicySet, *, explain: bool = False) -> AuthorizationResult:
    """Decide one request exactly as AWS would, and say what decided it.

    Decisions without an explanation are remembered per policy set: the same request against the
    same (immutable) policies always gets the same answer. The cache steps aside while it finds no
    repeats (see :class:`_CacheUse`), so requests that are all new pay almost nothing for it.
    """
    principal = request.principal
    cache = None
    key: tuple[object, ...] = ()
    if not explain and policies.decision_cache_size > 0:
        use = policies.decision_cache_use
        if use.skip:
            use.skip -= 1
        else:
            cache = policies.decision_cache
            key = (principal, request.action, request.resource, request.context.fingerprint())
            found = cache.get(key)
            if found is not None:
                use.hits += 1
                return found
            use.missed()
    by_id = _DEFAULTS_BY_ID.get(id(principal))
    if by_id is not None and by_id[0] is principal:
        defaults = by_id[1]
    else:
        defaults = _principal_context(principal)
        if len(_DEFAULTS_BY_ID) >= 1024:
            _DEFAULTS_BY_ID.clear()
        # The entry holds the principal, so its id is not reused while the entry lives.
        _DEFAULTS_BY_ID[id(principal)] = (principal, defaults)
    request = AuthorizationRequest(principal, request.action, request.resource,
                                   request.context.with_defaults(defaults))
    result = _Evaluation(request, policies, explain).decide()
    if cache is not None:
        if len(cache) >= policies.decision_cache_size:
            cache.clear()
        cache[key] = result
    return result


class _CacheUse:
    """How well a policy set's decision cache is doing. Building a key costs about a tenth of a
    decision; when a window of requests brings (almost) no repeat, the next ones skip the cache,
    then it is tried again. A stream of repeats never skips."""

    __slots__ = ("hits", "misses", "skip")

    WINDOW = 512      # misses per look at the hit rate
    PAUSE = 8192      # requests decided without the cache after a window without repeats

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.skip = 0

    def missed(self) -> None:
        self.misses += 1
        if self.misses >= self.WINDOW:
            if self.hits * 16 < self.misses:
                self.skip = self.PAUSE
            self.hits = self.misses = 0


_EMPTY: tuple[()] = ()
# The principal keys of callers seen lately, by object (hashing a principal costs more than a lookup).
_DEFAULTS_BY_ID: dict[int, tuple[RequestPrincipal, Mapping[str, ContextValue]]] = {}


class _Evaluation:
    """One authorization: evaluates the applicable policies once, then walks the gates."""

    __slots__ = ("action_lower", "boundary_attached", "denying", "explain", "gates", "has_errors", "has_missing",
                 "invalid", "lookup", "outcomes", "policies", "request")

    def __init__(self, request: AuthorizationRequest, policies: PolicySet, explain: bool) -> None:
        self.request = request
        self.policies = policies
        self.explain = explain
        self.outcomes: list[PolicyOutcome] = []
        self.denying: list[PolicyOutcome] = []
        self.invalid: list[Policy] = []
        self.gates: list[GateOutcome] = []
        self.has_errors = self.has_missing = False
        get = request.context.get

        def lookup(key: str) -> str | _NoValue | None:
            entry = get(key)
            if entry is None or not entry.values:
                return None
            single = entry.single
            return single if single is not None else NO_VALUE

        self.lookup = lookup
        # The caller's user or role has a permissions boundary (NotPrincipal with Deny, principals.py).
        self.boundary_attached = bool(policies.permissions_boundary) and request.principal.kind in _HAS_IDENTITY
        self.action_lower = request.action.lower()

    def run(self, compiled: Sequence[CompiledPolicy]) -> list[PolicyOutcome]:
        request, lookup, explain, boundary = self.request, self.lookup, self.explain, self.boundary_attached
        found = []
        for policy in compiled:
            if explain:
                outcome = policy.evaluate(request, lookup, boundary_attached=boundary, tracer=StatementTracer())
            else:
                outcome = policy._walk(request, lookup, boundary, None)
            found.append(outcome)
            if outcome.denies:
                self.denying.append(outcome)
            if outcome.runtime_errors:
                self.has_errors = True
            if outcome.missing_keys:
                self.has_missing = True
            if not policy.is_valid:
                self.invalid.append(policy.policy)
        self.outcomes.extend(found)
        return found

    def gate(self, gate: PolicyType, status: GateStatus, statements: tuple[StatementMatch, ...] = (),
             note: str = "") -> None:
        if self.explain:
            self.gates.append(GateOutcome(gate, status, statements, note))

    def result(self, decision: Decision, gate: PolicyType | None,
               statements: tuple[StatementMatch, ...] = ()) -> AuthorizationResult:
        request, outcomes = self.request, self.outcomes
        note = ""
        broken = self.invalid[0] if self.invalid else None
        if decision is Decision.ALLOWED and broken is not None:
            # Fail closed: a policy that AWS would have rejected can never take part in an allow.
            decision, gate, statements = Decision.IMPLICIT_DENY, broken.policy_type, ()
            note = f"{broken.policy_id} has errors and cannot be evaluated"
        errors: tuple[str, ...] = ()
        if broken is not None or self.has_errors:
            errors = tuple([f"{o.policy.policy_id}: {issue}" for o in outcomes for issue in o.policy.errors]
                           + [e for o in outcomes for e in o.runtime_errors])
        missing: tuple[str, ...] = ()
        if self.has_missing:
            missing = tuple(dict.fromkeys(k for o in outcomes for k in o.missing_keys))
        notes: tuple[str, ...] = ()
        if self.action_lower in beyond_policy.REFUSALS_BY_ACTION:
            notes = beyond_policy.refusals(request.action, request.resource)
        return AuthorizationResult(request, decision, gate, statements, errors, missing,
                                   tuple(self.gates) if self.gates else _EMPTY,
                                   tuple(outcomes) if self.explain else _EMPTY, notes, note)

    def decide(self) -> AuthorizationResult:
        request, policies = self.request, self.policies
        principal = request.principal
        free = beyond_policy.PERMISSION_NOT_REQUIRED.get(self.action_lower)
        if free is not None and principal.kind in free.callers:
            # No policy is asked, so none can deny (engine/beyond_policy.py names the source).
            return AuthorizationResult(request, Decision.ALLOWED, None, (), (), (), tuple(self.gates), (),
                                       (free.note(),))
        is_iam = principal.is_iam
        has_identity = is_iam and principal.kind is not PrincipalKind.ROOT
        same_account = policies.resource_owner is None or policies.resource_owner == principal.account
        management = policies.management_account
        in_management = management is not None and principal.account == management
        resource_in_management = management is not None and (policies.resource_owner or principal.account) == management

        identity = self.run(policies.identity) if has_identity else ()
        boundary = self.run(policies.permissions_boundary) if policies.permissions_boundary and has_identity else None
        session = self.run(policies.session) if policies.session and principal.is_session else None
        resource = self.run(policies.resource)
        scps = None
        if policies.scps is not None and is_iam and not principal.service_linked and not in_management:
            scps = tuple(self.run(level) for level in policies.scps)
        rcps = None
        if (policies.rcps is not None and not principal.service_linked and not resource_in_management
                and request.action.split(":", 1)[0].lower() in RCP_SERVICES):
            rcps = tuple(self.run(level) for level in policies.rcps)
        vpce = self.run(policies.vpc_endpoint) if policies.vpc_endpoint is not None else None

        # 1. An explicit deny in any policy wins.
        denying = self.denying
        if denying:
            denying.sort(key=lambda o: _DENY_REPORT_ORDER.index(o.policy.policy_type))
            gate_type = denying[0].policy.policy_type
            statements = denying[0].denies if len(denying) == 1 else tuple(s for o in denying for s in o.denies)
            self.gate(gate_type, GateStatus.DENY, statements)
            return self.result(Decision.EXPLICIT_DENY, gate_type, statements)

        # 2-3. Organizations guardrails: every level from the root down needs an Allow.
        for kind, levels in ((PolicyType.SCP, scps), (PolicyType.RCP, rcps)):
            if levels is None:
                continue
            allowing: tuple[StatementMatch, ...] = ()
            for depth, level in enumerate(levels):
                level_allows = _allows(level)
                if not level_allows:
                    self.gate(kind, GateStatus.NO_ALLOW, allowing,
                              f"nothing at level {depth} (0 = the organization root) allows the request")
                    return self.result(Decision.IMPLICIT_DENY, kind)
                allowing += level_allows
            self.gate(kind, GateStatus.ALLOW, allowing)

        # 4. The VPC endpoint the request travels through.
        granted: tuple[StatementMatch, ...] = ()
        if vpce is not None:
            granted = _allows(vpce)
            if not granted:
                self.gate(PolicyType.VPC_ENDPOINT, GateStatus.NO_ALLOW)
                return self.result(Decision.IMPLICIT_DENY, PolicyType.VPC_ENDPOINT)
            self.gate(PolicyType.VPC_ENDPOINT, GateStatus.ALLOW, granted)

        resource_allows = _allows(resource)
        best_grant = _strongest(resource_allows)
        resource_type = (policies.resource_policy_type
                         or (policies.resource[0].policy.policy_type if policies.resource else None)
                         or default_resource_policy_type(request.action, request.resource))
        required = resource_type in (PolicyType.ROLE_TRUST, PolicyType.KMS_KEY)

        # Service principals and anonymous callers have no identity policies: only a
        # resource-based policy can let them in.
        if not is_iam:
            if best_grant is None:
                self.gate(resource_type, GateStatus.NO_ALLOW)
                return self.result(Decision.IMPLICIT_DENY, resource_type)
            self.gate(resource_type, GateStatus.ALLOW, resource_allows)
            return self.result(Decision.ALLOWED, None, granted + resource_allows)

        identity_allows = _allows(identity)
        identity_ok = bool(identity_allows) or principal.kind is PrincipalKind.ROOT

        if same_account:
            if required and best_grant is None:
                self.gate(resource_type, GateStatus.NO_ALLOW)
                return self.result(Decision.IMPLICIT_DENY, resource_type)
            if best_grant is GrantKind.DIRECT:
                # A grant to the exact user, session or federated-user ARN (or to "*") is not
                # limited by implicit denies in identity policies, boundaries or session policies.
                self.gate(resource_type, GateStatus.ALLOW, resource_allows)
                self.gate(PolicyType.IDENTITY, GateStatus.NOT_NEEDED, identity_allows)
                return self.result(Decision.ALLOWED, None, granted + resource_allows)
            if best_grant is GrantKind.ROLE:
                self.gate(resource_type, GateStatus.ALLOW, resource_allows,
                          "granted to the role: its permissions boundary and session policy still apply")
                self.gate(PolicyType.IDENTITY, GateStatus.NOT_NEEDED, identity_allows)
                granted += resource_allows
            else:
                if resource_allows:
                    self.gate(resource_type, GateStatus.ALLOW, resource_allows,
                              "granted to the account: identity-based policies must allow too")
                if not identity_ok:
                    self.gate(PolicyType.IDENTITY, GateStatus.NO_ALLOW)
                    return self.result(Decision.IMPLICIT_DENY, PolicyType.IDENTITY)
                self.gate(PolicyType.IDENTITY, GateStatus.ALLOW, identity_allows)
                granted += resource_allows + identity_allows
        else:
            if not identity_ok:
                self.gate(PolicyType.IDENTITY, GateStatus.NO_ALLOW, (),
                          "cross-account: the caller's own account must allow the request")
                return self.result(Decision.IMPLICIT_DENY, PolicyType.IDENTITY)
            self.gate(PolicyType.IDENTITY, GateStatus.ALLOW, identity_allows)
            granted += identity_allows

        # 6. Permissions boundary; 7. session policies. Each, when present, needs an Allow.
        for kind, outcomes in ((PolicyType.PERMISSIONS_BOUNDARY, boundary), (PolicyType.SESSION, session)):
            if outcomes is None:
                continue
            allows = _allows(outcomes)
            if not allows:
                self.gate(kind, GateStatus.NO_ALLOW)
                return self.result(Decision.IMPLICIT_DENY, kind)
            self.gate(kind, GateStatus.ALLOW, allows)
            granted += allows
        if session is None and principal.kind is PrincipalKind.FEDERATED_USER:
            # A federated user session without a session policy has no permissions.
            self.gate(PolicyType.SESSION, GateStatus.NO_ALLOW, (),
                      "a federated user session without a session policy has no permissions")
            return self.result(Decision.IMPLICIT_DENY, PolicyType.SESSION)

        # 8. Cross-account: the resource's owner must allow the caller too.
        if not same_account:
            if best_grant is None:
                self.gate(resource_type, GateStatus.NO_ALLOW, (),
                          "cross-account: the resource's own policy must allow the caller")
                return self.result(Decision.IMPLICIT_DENY, resource_type)
            self.gate(resource_type, GateStatus.ALLOW, resource_allows)
            granted += resource_allows

        return self.result(Decision.ALLOWED, None, granted)


def _allows(outcomes: Sequence[PolicyOutcome]) -> tuple[StatementMatch, ...]:
    """The Allow statements that apply, across ``outcomes``."""
    if len(outcomes) == 1:
        return outcomes[0].allows
    return tuple(s for o in outcomes for s in o.allows)


def _strongest(matches: tuple[StatementMatch, ...]) -> GrantKind | None:
    order = {GrantKind.ACCOUNT: 0, GrantKind.ROLE: 1, GrantKind.DIRECT: 2}
    best: GrantKind | None = None
    for match in matches:
        if match.grant is not None and (best is None or order[match.grant] > order[best]):
            best = match.grant
    return best


def default_resource_policy_type(action: str, resource: str = "") -> PolicyType:
    """The kind of resource-based policy an action is checked against when nothing else says:
    the role's trust policy for sts:AssumeRole* (and the session tagging actions), the key policy
    for a kms: action on a key ARN, else an ordinary resource-based policy.

    A key policy must allow by itself, directly or by delegating to the account
    (reference_policies_evaluation-logic.md: "IAM role trust policies and KMS key policies are
    exceptions to this logic, because they must explicitly allow access for principals")."""
    action = action.lower()
    if action.startswith("sts:assumerole") or action in ("sts:tagsession", "sts:setsourceidentity"):
        return PolicyType.ROLE_TRUST
    if action.startswith("kms:") and is_kms_key_arn(resource):
        return PolicyType.KMS_KEY
    return PolicyType.RESOURCE


def is_kms_key_arn(resource: str) -> bool:
    """arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID (reference_identifiers.md; KMS developer guide, key ARN)."""
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[5].startswith("key/")


@lru_cache(maxsize=1024)
def _principal_context(principal: RequestPrincipal) -> Mapping[str, ContextValue]:
    """The principal keys AWS sets on every request (reference_policies_condition-keys.md)."""
    defaults: dict[str, ContextValue] = {}
    if principal.is_iam:
        defaults["aws:principalarn"] = ContextValue((principal.principal_arn,), type_name="arn")
        if principal.account:
            defaults["aws:principalaccount"] = ContextValue((principal.account,))
        defaults["aws:principalisawsservice"] = ContextValue(("false",), type_name="boolean")
        principal_type = {PrincipalKind.USER: "User", PrincipalKind.ROLE_SESSION: "AssumedRole",
                          PrincipalKind.FEDERATED_USER: "FederatedUser", PrincipalKind.ROOT: "Account"}
        defaults["aws:principaltype"] = ContextValue((principal_type[principal.kind],))
        if principal.kind is PrincipalKind.USER and principal.user_name:
            defaults["aws:username"] = ContextValue((principal.user_name,))
    elif principal.kind is PrincipalKind.SERVICE and principal.service:
        defaults["aws:principalisawsservice"] = ContextValue(("true",), type_name="boolean")
        defaults["aws:principalservicename"] = ContextValue((principal.service,))
    return MappingProxyType(defaults)


def _message(request: AuthorizationRequest, decision: Decision, gate: PolicyType, note: str) -> str:
    """The access denied text AWS returns (troubleshoot_access-denied.md)."""
    on_resource = "" if request.resource == "*" else f" on resource: {request.resource}"
    head = f"User: {request.principal.arn} is not authorized to perform: {request.action}{on_resource}"
    if decision is Decision.EXPLICIT_DENY:
        if gate is PolicyType.ROLE_TRUST:
            tail = " with an explicit deny in the role trust policy"
        else:
            article = "an" if gate.label[0] in "aeiou" else "a"
            tail = f" with an explicit deny in {article} {gate.label}"
    elif gate is PolicyType.SCP:
        # troubleshoot_access-denied.md: "When an SCP denies access, the error message can include the
        # phrase 'due to an explicit deny in a Service Control Policy', even if the denial is implicit."
        tail = " with an explicit deny in a service control policy"
    else:
        tail = f" because no {gate.label} allows the {request.action} action"
    if note:
        tail += f" ({note})"
    return head + tail
