"""The request AWS sees: who asks, for which action on which resource, with which context.

Principal ARN formats: reference_identifiers.md ("IAM ARNs"); context keys:
reference_policies_condition-keys.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType


class PrincipalKind(str, Enum):
    USER = "user"
    ROLE_SESSION = "role-session"
    FEDERATED_USER = "federated-user"
    ROOT = "root"
    SERVICE = "service"
    ANONYMOUS = "anonymous"


_SESSION_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")
# The path is whole "segment/" steps, so a failed match gives back one step at a time: linear in the
# ARN (a lazy ".*?" before "[^/]+$" was quadratic: 19 s for a 20,000-character CallerArn).
_ROLE_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::(\d{12}):role/((?:[^/]*/)*)([^/]+)$")
_USER_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::(\d{12}):user/(.+)$")
_ROOT_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::(\d{12}):root$")
_FEDERATED_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):sts::(\d{12}):federated-user/(.+)$")
_SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.(amazonaws\.com|amazonaws\.com\.cn|amazon\.com)$")
_SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass(frozen=True, slots=True)
class RequestPrincipal:
    """The caller. ``arn`` is what AWS's messages print after ``User:``.

    For a role session, ``role_arn`` is the role's ARN (``aws:PrincipalArn``); ``role_name`` is
    used to match policies that name the role, whose ARN may carry a path the session ARN lacks.
    """

    kind: PrincipalKind
    arn: str
    account: str | None
    partition: str = "aws"
    role_arn: str | None = None
    role_name: str | None = None
    session_name: str | None = None
    user_name: str | None = None
    service: str | None = None
    federated_by: str | None = None   # the IAM user ARN behind a federated-user session
    service_linked: bool = False

    @property
    def principal_arn(self) -> str:
        """The value of aws:PrincipalArn (reference_policies_condition-keys.md#condition-keys-principalarn)."""
        if self.kind is PrincipalKind.ROLE_SESSION and self.role_arn:
            return self.role_arn
        return self.arn

    @property
    def is_session(self) -> bool:
        return self.kind in (PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER)

    @property
    def is_iam(self) -> bool:
        """Users, role sessions, federated users and the root user: principals that have an account."""
        return self.kind not in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS)


class PrincipalFormatError(ValueError):
    pass


def principal_from_arn(text: str) -> RequestPrincipal:
    """Read a caller given as an ARN, a service principal name or ``anonymous``."""
    value = text.strip()
    if value in ("anonymous", "*"):
        return RequestPrincipal(PrincipalKind.ANONYMOUS, "anonymous", None)
    if m := _SESSION_RE.match(value):
        partition, account, role, session = m.groups()
        # A session ARN carries no role path; service-linked roles are named AWSServiceRoleFor...
        # (id_roles_terms-and-concepts.md, "Service-linked role").
        linked = role.startswith("AWSServiceRoleFor")
        return RequestPrincipal(PrincipalKind.ROLE_SESSION, value, account, partition,
                                role_arn=f"arn:{partition}:iam::{account}:role/{role}",
                                role_name=role, session_name=session, service_linked=linked)
    if m := _ROLE_RE.match(value):
        # A role ARN as the caller stands for a session of that role (the simulator's reading).
        partition, account, path, role = m.groups()
        return RequestPrincipal(PrincipalKind.ROLE_SESSION,
                                f"arn:{partition}:sts::{account}:assumed-role/{role}/session", account,
                                partition, role_arn=value, role_name=role, session_name="session",
                                service_linked=f"/{path}".startswith(_SERVICE_LINKED_PATH))
    if m := _USER_RE.match(value):
        partition, account, path_and_name = m.groups()
        return RequestPrincipal(PrincipalKind.USER, value, account, partition,
                                user_name=path_and_name.rsplit("/", 1)[-1])
    if m := _ROOT_RE.match(value):
        partition, account = m.groups()
        return RequestPrincipal(PrincipalKind.ROOT, value, account, partition)
    if m := _FEDERATED_RE.match(value):
        partition, account, name = m.groups()
        return RequestPrincipal(PrincipalKind.FEDERATED_USER, value, account, partition, user_name=name)
    if _SERVICE_RE.match(value):
        return RequestPrincipal(PrincipalKind.SERVICE, value, None, service=value)
    raise PrincipalFormatError(
        f"'{text}' is not a caller accesspath understands: use an IAM user, role, assumed-role session,"
        " federated user or root ARN, a service principal such as 'ecs-tasks.amazonaws.com', or 'anonymous'")


@dataclass(frozen=True, slots=True)
class ContextValue:
    """The values of one context key; ``multivalued`` keys (stringList, ...) keep their list."""

    values: tuple[str, ...]
    multivalued: bool = False
    type_name: str = "string"

    @property
    def single(self) -> str | None:
        """The value used for policy variables: single-valued keys only (reference_policies_variables.md)."""
        if self.multivalued or len(self.values) != 1:
            return None
        return self.values[0]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Context keys, looked up case-insensitively (key names are not case-sensitive)."""

    entries: Mapping[str, ContextValue] = field(default_factory=lambda: MappingProxyType({}))
    defaults: Mapping[str, ContextValue] | None = None  # keys AWS derives from the principal

    @classmethod
    def of(cls, values: Mapping[str, ContextValue | str | list[str] | tuple[str, ...]]) -> RequestContext:
        entries: dict[str, ContextValue] = {}
        for key, value in values.items():
            if isinstance(value, ContextValue):
                entries[key.lower()] = value
            elif isinstance(value, str):
                entries[key.lower()] = ContextValue((value,))
            else:
                entries[key.lower()] = ContextValue(tuple(value), multivalued=True, type_name="stringList")
        return cls(MappingProxyType(entries))

    def get(self, key_lower: str) -> ContextValue | None:
        found = self.entries.get(key_lower)
        if found is None and self.defaults is not None:
            return self.defaults.get(key_lower)
        return found

    def with_defaults(self, defaults: Mapping[str, ContextValue]) -> RequestContext:
        """The same context, falling back to ``defaults`` (lowercased keys) for keys it lacks."""
        return RequestContext(self.entries, defaults)

    def fingerprint(self) -> tuple[object, ...]:
        """A hashable summary of every key and value, for caching decisions."""
        entries = tuple(sorted((k, v.values, v.multivalued) for k, v in self.entries.items()))
        if self.defaults is None:
            return entries
        return entries + (None,) + tuple(sorted((k, v.values, v.multivalued) for k, v in self.defaults.items()))

    def keys(self) -> list[str]:
        merged = dict(self.defaults or {})
        merged.update(self.entries)
        return sorted(merged)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    principal: RequestPrincipal
    action: str
    resource: str
    context: RequestContext = field(default_factory=RequestContext)
