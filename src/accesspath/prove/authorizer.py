"""The authorizer's gates as a formula: when the symbolic request is allowed, when explicitly denied.

This follows :func:`accesspath.engine.authorize.authorize` gate by gate (docs/evaluation.md cites
the IAM User Guide page of each). Which policies take part is concrete (it depends on the caller
and the action, which are concrete); whether each allows or denies is symbolic. The one symbolic
fork of the walk itself is whether the resource's owner is the caller's account.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from accesspath.engine.authorize import RCP_SERVICES, PolicySet, default_resource_policy_type
from accesspath.engine.beyond_policy import permission_not_required
from accesspath.engine.evaluate import CompiledPolicy
from accesspath.engine.principals import GrantKind
from accesspath.engine.request import PrincipalKind
from accesspath.policy.model import PolicyType
from accesspath.prove.encode import FALSE, TRUE, PolicyFormula, SymbolicRequest, all_of, any_of, encode_policy
from accesspath.prove.patterns import any_char, char_except, literal
from accesspath.prove.symbols import Unsupported

# arn:PARTITION:kms:REGION:ACCOUNT:key/ID, as is_kms_key_arn reads it.
_SEGMENT = z3.Star(char_except(":"))
_KEY_ARN = z3.Concat(literal("arn:"), _SEGMENT, literal(":kms:"), _SEGMENT, literal(":"), _SEGMENT, literal(":key/"),
                     z3.Star(any_char()))


@dataclass(frozen=True)
class SymbolicDecision:
    allowed: z3.BoolRef
    explicit_deny: z3.BoolRef
    formulas: tuple[PolicyFormula, ...]   # every policy that took part, for statement hints

    @property
    def implicit_deny(self) -> z3.BoolRef:
        return z3.And(z3.Not(self.allowed), z3.Not(self.explicit_deny))


class _Walk:
    """A sequence of gates: each either ends the walk with a decision or lets the request on."""

    def __init__(self) -> None:
        self.passed: list[z3.BoolRef] = []    # conditions under which the walk got this far
        self.allowed: list[z3.BoolRef] = []
        self.explicit: list[z3.BoolRef] = []

    def deny_if(self, condition: z3.BoolRef, *, explicit: bool = False) -> None:
        here = all_of(self.passed)
        if explicit:
            self.explicit.append(z3.And(here, condition))
        self.passed.append(z3.Not(condition))

    def allow_if(self, condition: z3.BoolRef) -> None:
        self.allowed.append(z3.And(all_of(self.passed), condition))
        self.passed.append(z3.Not(condition))

    def allow_rest(self) -> None:
        self.allowed.append(all_of(self.passed))
        self.passed.append(FALSE)


def decide(request: SymbolicRequest, policies: PolicySet, same_account: z3.BoolRef,
           owner: str | None = None) -> SymbolicDecision:
    """The engine's decision for ``request`` under ``policies``; ``same_account`` says whether the
    resource's owner is the caller's account (a formula: the owner may be symbolic); ``owner`` is the
    owner's account when it is concrete."""
    principal = request.principal
    if permission_not_required(principal, request.action) is not None:
        # No policy is asked (engine/beyond_policy.py): allowed whatever they say.
        return SymbolicDecision(TRUE, FALSE, ())
    is_iam = principal.is_iam
    has_identity = is_iam and principal.kind is not PrincipalKind.ROOT
    boundary_attached = bool(policies.permissions_boundary) and has_identity
    management = policies.management_account
    in_management = management is not None and principal.account == management
    formulas: list[PolicyFormula] = []
    invalid = False

    def run(compiled: tuple[CompiledPolicy, ...] | None) -> list[PolicyFormula]:
        nonlocal invalid
        found = [encode_policy(c.policy, request, boundary_attached=boundary_attached) for c in compiled or ()]
        invalid = invalid or any(not c.is_valid for c in compiled or ())
        formulas.extend(found)
        return found

    identity = run(policies.identity) if has_identity else []
    boundary = run(policies.permissions_boundary) if policies.permissions_boundary and has_identity else None
    session = run(policies.session) if policies.session and principal.is_session else None
    resource = run(policies.resource)
    scps = None
    if policies.scps is not None and is_iam and not principal.service_linked and not in_management:
        scps = [run(level) for level in policies.scps]
    rcps = None
    # Resources of the management account are exempt from RCPs: that needs a concrete owner.
    resource_in_management = False
    if management is not None and policies.rcps is not None:
        if owner is None:
            raise Unsupported("RCPs with a management account and a resource whose owner is symbolic")
        resource_in_management = owner == management
    if (policies.rcps is not None and not principal.service_linked and not resource_in_management
            and request.action.split(":", 1)[0].lower() in RCP_SERVICES):
        rcps = [run(level) for level in policies.rcps]
    vpce = run(policies.vpc_endpoint) if policies.vpc_endpoint is not None else None

    walk = _Walk()
    # 1. An explicit deny in any policy wins.
    walk.deny_if(any_of([f.denies_any for f in formulas]), explicit=True)
    # 2-3. Every SCP and RCP level needs an Allow.
    for levels in (scps, rcps):
        for level in levels or ():
            walk.deny_if(z3.Not(any_of([f.allows_any for f in level])))
    # 4. The VPC endpoint policy.
    if vpce is not None:
        walk.deny_if(z3.Not(any_of([f.allows_any for f in vpce])))

    resource_type = (policies.resource_policy_type
                     or (policies.resource[0].policy.policy_type if policies.resource else None))
    required: z3.BoolRef
    if resource_type is not None:
        required = z3.BoolVal(resource_type in (PolicyType.ROLE_TRUST, PolicyType.KMS_KEY))
    elif request.action.lower().startswith("kms:"):
        # The key policy judges a kms: action on a key ARN (engine/authorize.py, is_kms_key_arn).
        required = z3.InRe(request.resource, _KEY_ARN)
    else:
        required = z3.BoolVal(default_resource_policy_type(request.action) is PolicyType.ROLE_TRUST)
    direct = any_of([f.allows_with(GrantKind.DIRECT) for f in resource])
    role = any_of([f.allows_with(GrantKind.ROLE) for f in resource])
    any_grant = any_of([f.allows_any for f in resource])

    if not is_iam:
        walk.deny_if(z3.Not(any_grant))
        walk.allow_rest()
        return _finish(walk, invalid, formulas)

    identity_ok = TRUE if principal.kind is PrincipalKind.ROOT else any_of([f.allows_any for f in identity])
    same = _continue_same_account(walk, required, direct, role, any_grant, identity_ok, boundary, session, principal.kind)
    other = _continue_cross_account(walk, identity_ok, any_grant, boundary, session, principal.kind)
    allowed = z3.If(same_account, same[0], other[0])
    explicit = z3.If(same_account, same[1], other[1])
    if invalid:
        # Fail closed: a policy that AWS would have rejected can never take part in an allow.
        allowed = FALSE
    return SymbolicDecision(z3.simplify(allowed), z3.simplify(explicit), tuple(formulas))


def _continue_same_account(base: _Walk, required: z3.BoolRef, direct: z3.BoolRef, role: z3.BoolRef,
                           any_grant: z3.BoolRef, identity_ok: z3.BoolRef, boundary: list[PolicyFormula] | None,
                           session: list[PolicyFormula] | None, kind: PrincipalKind) -> tuple[z3.BoolRef, z3.BoolRef]:
    walk = _fork(base)
    walk.deny_if(z3.And(required, z3.Not(any_grant)))
    # A grant to the exact session or user ARN (or "*") is not limited by implicit denies elsewhere.
    walk.allow_if(direct)
    # A grant to the role passes the identity gate; the boundary and session policy still apply.
    walk.deny_if(z3.And(z3.Not(role), z3.Not(identity_ok)))
    _boundary_and_session(walk, boundary, session, kind)
    walk.allow_rest()
    return any_of(walk.allowed), any_of(walk.explicit)


def _continue_cross_account(base: _Walk, identity_ok: z3.BoolRef, any_grant: z3.BoolRef,
                            boundary: list[PolicyFormula] | None, session: list[PolicyFormula] | None,
                            kind: PrincipalKind) -> tuple[z3.BoolRef, z3.BoolRef]:
    walk = _fork(base)
    walk.deny_if(z3.Not(identity_ok))
    _boundary_and_session(walk, boundary, session, kind)
    walk.deny_if(z3.Not(any_grant))
    walk.allow_rest()
    return any_of(walk.allowed), any_of(walk.explicit)


def _boundary_and_session(walk: _Walk, boundary: list[PolicyFormula] | None, session: list[PolicyFormula] | None,
                          kind: PrincipalKind) -> None:
    for outcomes in (boundary, session):
        if outcomes is not None:
            walk.deny_if(z3.Not(any_of([f.allows_any for f in outcomes])))
    if session is None and kind is PrincipalKind.FEDERATED_USER:
        walk.deny_if(TRUE)


def _fork(walk: _Walk) -> _Walk:
    copy = _Walk()
    copy.passed = list(walk.passed)
    copy.allowed = list(walk.allowed)
    copy.explicit = list(walk.explicit)
    return copy


def _finish(walk: _Walk, invalid: bool, formulas: list[PolicyFormula]) -> SymbolicDecision:
    allowed = FALSE if invalid else any_of(walk.allowed)
    return SymbolicDecision(z3.simplify(allowed), z3.simplify(any_of(walk.explicit)), tuple(formulas))
