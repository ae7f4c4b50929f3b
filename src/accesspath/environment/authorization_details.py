"""``--authorization-details FILE``: what the account has beyond the templates.

The file is the JSON of ``aws iam get-account-authorization-details`` (IAM API reference,
GetAccountAuthorizationDetails): ``Policies`` (managed policies with their versions; the
default one counts), ``RoleDetailList`` (trust policy, inline ``RolePolicyList``,
``AttachedManagedPolicies``, ``PermissionsBoundary``), ``UserDetailList`` and
``GroupDetailList``. Managed policies found there win over the bundled snapshot; roles found
there replace the unknown stand-ins of roles the templates reference but do not define, and can
be named by ``--from``. Policies inside keep their line and column in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote

from accesspath.catalog.managed_policies import (
    ManagedPolicyCatalog,
    bundled_managed_policies,
    entries_from_authorization_details,
)
from accesspath.environment.model import Environment, Role
from accesspath.environment.unknowns import Unknown, unknown_policy
from accesspath.errors import UsageError
from accesspath.files import read_text
from accesspath.policy import Node, Policy, PolicyType, decode_json, parse_policy
from accesspath.policy.source import JsonSyntaxError


@dataclass(frozen=True)
class AuthorizationDetails:
    path: str
    managed: ManagedPolicyCatalog
    roles: tuple[Role, ...]


def read_authorization_details(path: str) -> AuthorizationDetails:
    text = read_text(path)
    try:
        root = decode_json(text, path)
    except JsonSyntaxError as error:
        raise UsageError(f"not valid JSON: {error.message}", source=path, line=error.position.line,
                         column=error.position.column) from None
    data = root.to_python()
    if not isinstance(data, Mapping) or not any(k in data for k in ("Policies", "RoleDetailList", "UserDetailList",
                                                                      "GroupDetailList")):
        raise UsageError("is not the output of 'aws iam get-account-authorization-details' (no Policies or"
                         " RoleDetailList)", source=path, line=1, column=1)
    try:
        entries = entries_from_authorization_details(data, path)
    except (ValueError, TypeError) as error:
        raise UsageError(f"a policy document cannot be read: {error}", source=path) from None
    managed = bundled_managed_policies().with_documents(entries, path)
    roles = tuple(_role(item, managed, path) for item in _items(root, "RoleDetailList"))
    return AuthorizationDetails(path, managed, roles)


def with_roles(env: Environment, details: AuthorizationDetails) -> Environment:
    """Roles of the account that the templates do not define: known now, no longer unknown stand-ins."""
    external = dict(env.external_roles)
    for role in details.roles:
        if role.name in env.roles or any(r.arn == role.arn for r in env.roles.values()):
            continue   # the templates define it: they are what will be deployed
        stale = [name for name, r in external.items() if r.arn == role.arn or name == role.name]
        for name in stale:
            del external[name]
        external[role.name] = role
    return replace(env, external_roles=external)


def _items(root: Node, key: str) -> tuple[Node, ...]:
    found = root.member(key)
    return tuple(found.value) if found is not None and found.is_array else ()


def _text(node: Node, key: str) -> str | None:
    found = node.member(key)
    return found.value if found is not None and isinstance(found.value, str) else None


def _document(node: Node | None, path: str) -> Node | None:
    """A policy document, as an object, or as the URL-encoded JSON text the raw API returns."""
    if node is None:
        return None
    if isinstance(node.value, str):
        text = unquote(node.value) if node.value.lstrip().startswith("%") else node.value
        try:
            return decode_json(text, path)
        except JsonSyntaxError:
            return node
    return node


def _role(item: Node, managed: ManagedPolicyCatalog, path: str) -> Role:
    name = _text(item, "RoleName") or "?"
    arn = _text(item, "Arn") or name
    trust_node = _document(item.member("AssumeRolePolicyDocument"), path)
    trust = (parse_policy(trust_node, policy_type=PolicyType.ROLE_TRUST, policy_id=f"{name} trust policy ({path})",
                          source=path) if trust_node is not None else None)
    policies: list[Policy] = []
    for inline in _items(item, "RolePolicyList"):
        document = _document(inline.member("PolicyDocument"), path)
        if document is not None:
            policies.append(parse_policy(document, policy_id=f"{name} inline {_text(inline, 'PolicyName')}",
                                         source=path))
    attached = tuple(a for a in (_text(m, "PolicyArn") for m in _items(item, "AttachedManagedPolicies")) if a)
    unresolved = []
    for policy_arn in attached:
        found = managed.policy(policy_arn)
        if found is None:
            unresolved.append(policy_arn)
            found = unknown_policy(f"managed policy {policy_arn}", PolicyType.IDENTITY, Unknown(
                f"the managed policy '{policy_arn}' attached to role {name}",
                f"include it in {path} (get-account-authorization-details lists every managed policy attached"
                " in the account)", item.start))
        policies.append(found)
    boundary = None
    boundary_node = item.member("PermissionsBoundary")
    boundary_arn = _text(boundary_node, "PermissionsBoundaryArn") if boundary_node is not None else None
    if boundary_arn:
        boundary = managed.policy(boundary_arn, PolicyType.PERMISSIONS_BOUNDARY) or unknown_policy(
            f"permissions boundary {boundary_arn}", PolicyType.PERMISSIONS_BOUNDARY,
            Unknown(f"the permissions boundary '{boundary_arn}' of role {name}", f"include it in {path}", item.start))
    return Role(name, arn, trust, tuple(policies), boundary, attached, tuple(unresolved), None, item.start,
                external=True)
