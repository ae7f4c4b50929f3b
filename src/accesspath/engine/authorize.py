"""The authorizer: combine every applicable policy into AWS's decision.

This is the one place where a decision is made; every accesspath feature asks it.
The order of the gates and their interplay follow docs/evaluation.md, which cites the IAM User
Guide page behind each rule (reference_policies_evaluation-logic.md,
reference_policies_evaluation-logic-cross-account.md, access_policies_boundaries.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Sequence

from accesspath.engine.evaluate import CompiledPolicy, PolicyOutcome, StatementMatch
from accesspath.engine.principals import GrantKind
from accesspath.engine.request import (
    AuthorizationRequest, ContextValue, PrincipalKind, RequestContext, RequestPrincipal,
)
from accesspath.policy.model import Policy, PolicyType


class Decision(str, Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


# Services whose resources RCPs govern (Organizations user guide, orgs_manage_policies_rcps.html,
# "List of AWS services that support RCPs").
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-identity",
                          "dynamodb", "logs"})

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

    @classmethod
    def of(cls, *, identity: Sequence[Policy] = (), permissions_boundary: Sequence[Policy] | None = None,
           session: Sequence[Policy] | None = None, resource: Sequence[Policy] = (),
           resource_owner: str | None = None, scps: Sequence[Sequence[Policy]] | None = None,
           rcps: Sequence[Sequence[Policy]] | None = None, vpc_endpoint: Sequence[Policy] | None = None,
           management_account: str | None = None) -> "PolicySet":
        """Build a set from parsed policies, compiling each once."""
        def compiled(policies: Sequence[Policy]) -> tuple[CompiledPolicy, ...]:
            return tuple(CompiledPolicy(p) for p in policies)

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
    message: str | None
    errors: tuple[str, ...]
    missing_context_keys: tuple[str, ...]
    gates: tuple[GateOutcome, ...]
    policies: tuple[PolicyOutcome, ...] = field(default=())  # with statement traces when explaining

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


def authorize(request: AuthorizationRequest, policies: PolicySet, *, explain: bool = False) -> AuthorizationResult:
    """Decide one request exactly as AWS would, and say what decided it."""
    principal = request.principal
    request = _with_principal_context(request)
    context = request.context

    def lookup(key: str) -> str | None:
        entry = context.get(key)
        return entry.single if entry is not None else None

    outcomes: list[PolicyOutcome] = []

    def run(compiled: Sequence[CompiledPolicy]) -> tuple[PolicyOutcome, ...]:
        found = tuple(c.explain(request, lookup) if explain else c.evaluate(request, lookup) for c in compiled)
        outcomes.extend(found)
        return found

    is_iam = principal.is_iam
    same_account = policies.resource_owner is None or policies.resource_owner == principal.account
    in_management = policies.management_account is not None and principal.account == policies.management_account
    resource_in_management = (policies.management_account is not None and
                              (policies.resource_owner or principal.account) == policies.management_account)

    identity = run(policies.identity) if is_iam and principal.kind is not PrincipalKind.ROOT else ()
    boundary = (run(policies.permissions_boundary)
                if policies.permissions_boundary and is_iam and principal.kind is not PrincipalKind.ROOT else None)
    session = run(policies.session) if policies.session and principal.is_session else None
    resource = run(policies.resource)
    scp_applies = (policies.scps is not None and is_iam and not principal.service_linked and not in_management)
    scps = tuple(run(level) for level in policies.scps) if scp_applies and policies.scps is not None else None
    rcp_applies = (policies.rcps is not None and not principal.service_linked and not resource_in_management
                   and request.action.split(":", 1)[0].lower() in RCP_SERVICES)
    rcps = tuple(run(level) for level in policies.rcps) if rcp_applies and policies.rcps is not None else None
    vpce = run(policies.vpc_endpoint) if policies.vpc_endpoint is not None else None

    errors = [f"{o.policy.policy_id}: {issue}" for o in outcomes for issue in o.policy.errors]
    errors.extend(e for o in outcomes for e in o.runtime_errors)
    missing = tuple(dict.fromkeys(k for o in outcomes for k in o.missing_keys))
    resource_type = policies.resource[0].policy.policy_type if policies.resource else _default_resource_type(request)

    gates: list[GateOutcome] = []

    def result(decision: Decision, gate: PolicyType | None, statements: tuple[StatementMatch, ...],
               note: str = "") -> AuthorizationResult:
        final_decision, final_gate, final_note = decision, gate, note
        if decision is Decision.ALLOWED:
            broken = next((o.policy for o in outcomes if not o.policy.is_valid), None)
            if broken is not None:
                # Fail closed: a policy that AWS would have rejected can never take part in an allow.
                final_decision, final_gate = Decision.IMPLICIT_DENY, broken.policy_type
                final_note = f"{broken.policy_id} has errors and cannot be evaluated"
                statements = ()
        message = None if final_decision is Decision.ALLOWED else _message(
            request, principal, final_decision, final_gate or PolicyType.IDENTITY, final_note)
        return AuthorizationResult(request, final_decision, final_gate, statements, message, tuple(errors),
                                   missing, tuple(gates), tuple(outcomes) if explain else ())

    # 1. An explicit deny in any policy wins.
    deny_groups: list[tuple[PolicyType, tuple[StatementMatch, ...]]] = []
    for group in (identity, boundary or (), session or (), resource, vpce or (),
                  *(scps or ()), *(rcps or ())):
        for o in group:
            if o.denies:
                deny_groups.append((o.policy.policy_type, o.denies))
    if deny_groups:
        deny_groups.sort(key=lambda g: _DENY_REPORT_ORDER.index(g[0]))
        gate_type = deny_groups[0][0]
        statements = tuple(s for _, group_statements in deny_groups for s in group_statements)
        gates.append(GateOutcome(gate_type, GateStatus.DENY, statements))
        return result(Decision.EXPLICIT_DENY, gate_type, statements)

    # 2-3. Organizations guardrails: every level from the root down needs an Allow.
    for kind, levels in ((PolicyType.SCP, scps), (PolicyType.RCP, rcps)):
        if levels is None:
            gates.append(GateOutcome(kind, GateStatus.NOT_APPLICABLE, ()))
            continue
        allowing: list[StatementMatch] = []
        for depth, level in enumerate(levels):
            level_allows = tuple(s for o in level for s in o.allows)
            if not level_allows:
                gates.append(GateOutcome(kind, GateStatus.NO_ALLOW, tuple(allowing),
                                         f"no {kind.label} at level {depth} (0 = root) allows the request"))
                return result(Decision.IMPLICIT_DENY, kind, ())
            allowing.extend(level_allows)
        gates.append(GateOutcome(kind, GateStatus.ALLOW, tuple(allowing)))

    # 4. The VPC endpoint the request travels through.
    if vpce is not None:
        endpoint_allows = tuple(s for o in vpce for s in o.allows)
        if not endpoint_allows:
            gates.append(GateOutcome(PolicyType.VPC_ENDPOINT, GateStatus.NO_ALLOW, ()))
            return result(Decision.IMPLICIT_DENY, PolicyType.VPC_ENDPOINT, ())
        gates.append(GateOutcome(PolicyType.VPC_ENDPOINT, GateStatus.ALLOW, endpoint_allows))
    else:
        gates.append(GateOutcome(PolicyType.VPC_ENDPOINT, GateStatus.NOT_APPLICABLE, ()))

    granted: tuple[StatementMatch, ...] = tuple(s for o in vpce or () for s in o.allows)
    resource_allows = tuple(s for o in resource for s in o.allows)
    best_grant = _strongest(resource_allows)
    required = resource_type in (PolicyType.ROLE_TRUST, PolicyType.KMS_KEY)

    # Service principals and anonymous callers have no identity policies: only a resource-based
    # policy can let them in.
    if not is_iam:
        if best_grant is None:
            gates.append(GateOutcome(resource_type, GateStatus.NO_ALLOW, ()))
            return result(Decision.IMPLICIT_DENY, resource_type, ())
        gates.append(GateOutcome(resource_type, GateStatus.ALLOW, resource_allows))
        return result(Decision.ALLOWED, None, granted + resource_allows)

    identity_allows = tuple(s for o in identity for s in o.allows)
    root_of_own_account = principal.kind is PrincipalKind.ROOT

    if same_account:
        if required and best_grant is None:
            gates.append(GateOutcome(resource_type, GateStatus.NO_ALLOW, ()))
            return result(Decision.IMPLICIT_DENY, resource_type, ())
        if best_grant is GrantKind.DIRECT:
            # A grant to the exact user, session or federated-user ARN (or to "*") is not limited
            # by implicit denies in identity policies, boundaries or session policies.
            gates.append(GateOutcome(resource_type, GateStatus.ALLOW, resource_allows))
            gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.NOT_NEEDED, identity_allows))
            return result(Decision.ALLOWED, None, granted + resource_allows)
        if best_grant is GrantKind.ROLE:
            gates.append(GateOutcome(resource_type, GateStatus.ALLOW, resource_allows,
                                     "granted to the role: its permissions boundary and session policy still apply"))
            gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.NOT_NEEDED, identity_allows))
            granted += resource_allows
        else:
            if policies.resource:
                gates.append(GateOutcome(resource_type, GateStatus.ALLOW if resource_allows else GateStatus.NO_ALLOW,
                                         resource_allows, "granted to the account: identity policies decide"
                                         if resource_allows else ""))
            if not (identity_allows or root_of_own_account):
                gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.NO_ALLOW, ()))
                return result(Decision.IMPLICIT_DENY, PolicyType.IDENTITY, ())
            gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.ALLOW, identity_allows))
            granted += resource_allows + identity_allows
    else:
        if not (identity_allows or root_of_own_account):
            gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.NO_ALLOW, (),
                                     "cross-account: the caller's own account must allow"))
            return result(Decision.IMPLICIT_DENY, PolicyType.IDENTITY, ())
        gates.append(GateOutcome(PolicyType.IDENTITY, GateStatus.ALLOW, identity_allows))
        granted += identity_allows

    # 6. Permissions boundary.
    if boundary is not None:
        boundary_allows = tuple(s for o in boundary for s in o.allows)
        if not boundary_allows:
            gates.append(GateOutcome(PolicyType.PERMISSIONS_BOUNDARY, GateStatus.NO_ALLOW, ()))
            return result(Decision.IMPLICIT_DENY, PolicyType.PERMISSIONS_BOUNDARY, ())
        gates.append(GateOutcome(PolicyType.PERMISSIONS_BOUNDARY, GateStatus.ALLOW, boundary_allows))
        granted += boundary_allows

    # 7. Session policies; a federated user session without one has no permissions.
    if principal.is_session:
        if session is not None:
            session_allows = tuple(s for o in session for s in o.allows)
            if not session_allows:
                gates.append(GateOutcome(PolicyType.SESSION, GateStatus.NO_ALLOW, ()))
                return result(Decision.IMPLICIT_DENY, PolicyType.SESSION, ())
            gates.append(GateOutcome(PolicyType.SESSION, GateStatus.ALLOW, session_allows))
            granted += session_allows
        elif principal.kind is PrincipalKind.FEDERATED_USER:
            gates.append(GateOutcome(PolicyType.SESSION, GateStatus.NO_ALLOW, (),
                                     "a federated user session without a session policy has no permissions"))
            return result(Decision.IMPLICIT_DENY, PolicyType.SESSION, ())

    # 8. Cross-account: the resource's owner must allow the caller too.
    if not same_account:
        if best_grant is None:
            gates.append(GateOutcome(resource_type, GateStatus.NO_ALLOW, (),
                                     "cross-account: the resource's policy must allow the caller"))
            return result(Decision.IMPLICIT_DENY, resource_type, ())
        gates.append(GateOutcome(resource_type, GateStatus.ALLOW, resource_allows))
        granted += resource_allows

    return result(Decision.ALLOWED, None, granted)


def _strongest(matches: tuple[StatementMatch, ...]) -> GrantKind | None:
    order = {GrantKind.ACCOUNT: 0, GrantKind.ROLE: 1, GrantKind.DIRECT: 2}
    best: GrantKind | None = None
    for match in matches:
        if match.grant is not None and (best is None or order[match.grant] > order[best]):
            best = match.grant
    return best


def _default_resource_type(request: AuthorizationRequest) -> PolicyType:
    action = request.action.lower()
    if action.startswith("sts:assumerole") or action in ("sts:tagsession", "sts:setsourceidentity"):
        return PolicyType.ROLE_TRUST
    return PolicyType.RESOURCE


def _with_principal_context(request: AuthorizationRequest) -> AuthorizationRequest:
    """Add the principal keys AWS sets for every request (reference_policies_condition-keys.md)."""
    principal: RequestPrincipal = request.principal
    defaults: dict[str, ContextValue] = {}
    if principal.is_iam:
        defaults["aws:PrincipalArn"] = ContextValue((principal.principal_arn,), type_name="arn")
        if principal.account:
            defaults["aws:PrincipalAccount"] = ContextValue((principal.account,))
        defaults["aws:PrincipalIsAWSService"] = ContextValue(("false",), type_name="boolean")
        principal_type = {PrincipalKind.USER: "User", PrincipalKind.ROLE_SESSION: "AssumedRole",
                          PrincipalKind.FEDERATED_USER: "FederatedUser", PrincipalKind.ROOT: "Account"}
        defaults["aws:PrincipalType"] = ContextValue((principal_type[principal.kind],))
        if principal.kind is PrincipalKind.USER and principal.user_name:
            defaults["aws:username"] = ContextValue((principal.user_name,))
    elif principal.kind is PrincipalKind.SERVICE and principal.service:
        defaults["aws:PrincipalIsAWSService"] = ContextValue(("true",), type_name="boolean")
        defaults["aws:PrincipalServiceName"] = ContextValue((principal.service,))
    if not defaults:
        return request
    return AuthorizationRequest(principal, request.action, request.resource,
                                request.context.with_defaults(defaults))


def _message(request: AuthorizationRequest, principal: RequestPrincipal, decision: Decision,
             gate: PolicyType, note: str) -> str:
    """The access denied text AWS returns (troubleshoot_access-denied.md)."""
    on_resource = "" if request.resource == "*" else f" on resource: {request.resource}"
    head = f"User: {principal.arn} is not authorized to perform: {request.action}{on_resource}"
    if decision is Decision.EXPLICIT_DENY:
        if gate is PolicyType.ROLE_TRUST:
            tail = " with an explicit deny in the role trust policy"
        else:
            article = "an" if gate.label[0] in "aeiou" else "a"
            tail = f" with an explicit deny in {article} {gate.label}"
    else:
        tail = f" because no {gate.label} allows the {request.action} action"
    if note:
        tail += f" ({note})"
    return head + tail
