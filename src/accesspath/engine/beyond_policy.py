"""What AWS decides without policies: calls that need no permission, and calls refused whatever the
policies say. Each fact is data with the page it comes from; the authorizer only looks them up.

- A call that needs no permission is ``allowed`` whatever the policies say (even an explicit deny),
  and the result says why.
- A refusal does not change the decision, which stays the policies' (what an IAM simulation
  answers); the result carries a note that AWS still refuses the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from accesspath.engine.request import PrincipalKind, RequestPrincipal
from accesspath.policy.patterns import WHOLE, Pattern


@dataclass(frozen=True, slots=True)
class PermissionNotRequired:
    """An action AWS performs for the caller without asking any policy."""

    action: str                            # lowercased service:Action
    callers: frozenset[PrincipalKind]      # who can call it at all
    source: str                            # the page that says so
    quote: str                             # what it says

    def note(self) -> str:
        return f"{self.action} needs no permission: \"{self.quote}\" ({self.source})"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Calls AWS refuses whatever the policies say: actions on resources matching a pattern."""

    actions: frozenset[str]              # lowercased service:Action names
    resources: tuple[Pattern, ...]
    reason: str
    source: str

    def applies(self, action: str, resource: str) -> bool:
        return action.lower() in self.actions and any(p.matches(resource) for p in self.resources)

    def note(self) -> str:
        return f"AWS refuses this call whatever the policies say: {self.reason} ({self.source})"


_IAM_CALLERS = frozenset({PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER,
                          PrincipalKind.ROOT})

PERMISSION_NOT_REQUIRED: dict[str, PermissionNotRequired] = {fact.action: fact for fact in (
    PermissionNotRequired(
        "sts:getcalleridentity", _IAM_CALLERS,
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html;"
        " IAM User Guide, id_credentials_temp_request.md",
        "No permissions are required to perform this operation. If an administrator adds a policy to your IAM"
        " identity that explicitly denies access to the sts:GetCallerIdentity action, you can still perform"
        " this operation."),
    PermissionNotRequired(
        # Only long-term credentials can call it: IAM users and the root user.
        "sts:getsessiontoken", frozenset({PrincipalKind.USER, PrincipalKind.ROOT}),
        "IAM User Guide, id_credentials_temp_control-access_getsessiontoken.md",
        "No permissions are required for a user to get a session token. The purpose of the GetSessionToken"
        " operation is to authenticate the user using MFA. You cannot use policies to control authentication"
        " operations."),
)}


def _actions(*names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def _resources(*arns: str) -> tuple[Pattern, ...]:
    return tuple(Pattern.compile(arn, mode=WHOLE) for arn in arns)


REFUSALS: tuple[Refusal, ...] = (
    Refusal(_actions("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                      "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"),
            _resources("arn:aws*:iam::aws:policy/*"),
            "AWS managed policies cannot be changed: \"You cannot change the permissions defined in AWS managed"
            " policies\"",
            "IAM User Guide, access_policies_managed-vs-inline.md"),
    Refusal(_actions("iam:PassRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
                      "iam:DeleteRolePermissionsBoundary", "iam:UpdateRole", "iam:UpdateRoleDescription",
                      "iam:DeleteRole", "iam:TagRole", "iam:UntagRole"),
            _resources("arn:aws*:iam::*:role/aws-reserved/*"),
            "roles under the /aws-reserved/ path are created and managed by AWS (IAM Identity Center's"
            " permission-set roles): only the service changes them and they cannot be passed to other services",
            "IAM Identity Center User Guide, permissionsetsconcept.html"),
    Refusal(_actions("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey",
                      "kms:EnableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
                      "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias",
                      "kms:DeleteAlias", "kms:CreateGrant", "kms:RetireGrant", "kms:RevokeGrant"),
            _resources("arn:aws*:kms:*:*:alias/aws/*"),
            "AWS managed keys (alias/aws/...) are administered by AWS: \"You cannot change any properties of AWS"
            " managed keys, rotate them, change their key policies, or schedule them for deletion\", and alias"
            " names beginning with aws/ are reserved",
            "AWS KMS Developer Guide, concepts.html#aws-managed-cmk and kms-alias.html"),
)


def permission_not_required(principal: RequestPrincipal, action: str) -> PermissionNotRequired | None:
    fact = PERMISSION_NOT_REQUIRED.get(action.lower())
    if fact is None or principal.kind not in fact.callers:
        return None
    return fact


REFUSALS_BY_ACTION: dict[str, tuple[Refusal, ...]] = {
    action: tuple(r for r in REFUSALS if action in r.actions) for r0 in REFUSALS for action in r0.actions}


def refusals(action: str, resource: str) -> tuple[str, ...]:
    """Notes for every refusal that covers the call (empty for almost every call: one dict lookup)."""
    found = REFUSALS_BY_ACTION.get(action.lower())
    if not found:
        return ()
    return tuple(r.note() for r in found if r.applies(action, resource))
