"""Does a statement's Principal (or NotPrincipal) name the caller, and how?

How it names the caller matters for same-account evaluation
(reference_policies_evaluation-logic.md, "Resource-based policies and implicit denies"):
a grant to the account delegates to the account's identity policies; a grant to a role ARN
is limited by the role's permissions boundary and session policy; a grant to the exact user,
session or federated-user ARN is not limited by implicit denies elsewhere.
Principal forms: reference_policies_elements_principal.md.
"""

from __future__ import annotations

from enum import Enum

from accesspath.engine.request import PrincipalKind, RequestPrincipal
from accesspath.policy.model import PrincipalBlock, PrincipalEntry


class GrantKind(str, Enum):
    DIRECT = "direct"      # the user, session or federated-user ARN, a service, or "*"
    ROLE = "role"          # the role ARN (or the IAM user behind a federated-user session)
    ACCOUNT = "account"    # the account id or arn:aws:iam::ID:root


_STRENGTH = {GrantKind.ACCOUNT: 0, GrantKind.ROLE: 1, GrantKind.DIRECT: 2}


def match_principal(block: PrincipalBlock | None, caller: RequestPrincipal, *, deny: bool = False,
                    boundary_attached: bool = False) -> GrantKind | None:
    """How the block names the caller (the strongest way), or None if it does not.

    A statement without Principal (VPC endpoint policies may leave it out) applies to everyone.
    ``boundary_attached``: the caller (its user or role) has a permissions boundary.
    """
    if block is None:
        return GrantKind.DIRECT
    if block.negated:
        if deny and boundary_attached and caller.is_iam:
            # access_policies_boundaries.md: "The NotPrincipal element with a Deny effect will always
            # deny any IAM principal that has a permissions boundary policy attached, regardless of
            # the values specified in the NotPrincipal element."
            return GrantKind.DIRECT
        return _not_principal(block, caller, deny)
    best: GrantKind | None = None
    for entry in block.entries:
        kind = _match_entry(entry, caller)
        if kind is not None and (best is None or _STRENGTH[kind] > _STRENGTH[best]):
            best = kind
    return best


def _not_principal(block: PrincipalBlock, caller: RequestPrincipal, deny: bool) -> GrantKind | None:
    """NotPrincipal: the statement applies to every principal it does not exclude.

    AWS checks each identity of the caller's chain — its account, then the user, or the role and
    then its session — and says a NotPrincipal that omits one of them "might" still deny the caller
    (reference_policies_elements_notprincipal.md, "NotPrincipal with Deny": list the account, the
    role and the assumed-role session). Both readings fail closed here: a Deny still applies unless
    the whole chain is listed; an Allow stops applying as soon as any identity of the chain is listed.
    """
    listed = {kind for entry in block.entries if (kind := _match_entry(entry, caller)) is not None}
    excluded = _CHAIN[caller.kind] <= listed if deny else bool(listed)
    return None if excluded else GrantKind.DIRECT


# The identities of a caller's chain, as the grant kinds that name them.
_CHAIN = {
    PrincipalKind.ROLE_SESSION: frozenset({GrantKind.ACCOUNT, GrantKind.ROLE, GrantKind.DIRECT}),
    PrincipalKind.USER: frozenset({GrantKind.ACCOUNT, GrantKind.DIRECT}),
    PrincipalKind.FEDERATED_USER: frozenset({GrantKind.ACCOUNT, GrantKind.DIRECT}),
    PrincipalKind.ROOT: frozenset({GrantKind.ACCOUNT}),
    PrincipalKind.SERVICE: frozenset({GrantKind.DIRECT}),
    PrincipalKind.ANONYMOUS: frozenset({GrantKind.DIRECT}),
}


def _match_entry(entry: PrincipalEntry, caller: RequestPrincipal) -> GrantKind | None:
    kind, value = entry.kind, entry.value
    if kind == "*" or (kind == "AWS" and value == "*"):
        return GrantKind.DIRECT
    if kind == "Service":
        if caller.kind is PrincipalKind.SERVICE and caller.service is not None:
            return GrantKind.DIRECT if caller.service.lower() == value.lower() else None
        return None
    if kind == "Federated" or kind == "CanonicalUser":
        return GrantKind.DIRECT if caller.arn == value else None
    # kind == "AWS"
    if not caller.is_iam or caller.account is None:
        return None
    if value.isdigit():
        return GrantKind.ACCOUNT if value == caller.account else None
    parts = value.split(":", 5)
    if len(parts) != 6:
        return None
    service, account, resource = parts[2], parts[4], parts[5]
    if account != caller.account:
        return None
    if service == "iam" and resource == "root":
        return GrantKind.ACCOUNT
    if service == "iam" and resource.startswith("role/"):
        role_name = resource.rsplit("/", 1)[-1]
        if caller.kind is PrincipalKind.ROLE_SESSION and caller.role_name == role_name:
            return GrantKind.ROLE
        return None
    if service == "iam" and resource.startswith("user/"):
        if caller.kind is PrincipalKind.USER and caller.arn == value:
            return GrantKind.DIRECT
        if caller.kind is PrincipalKind.FEDERATED_USER and caller.federated_by == value:
            return GrantKind.ROLE
        return None
    if service == "sts":
        return GrantKind.DIRECT if caller.arn == value else None
    return None
