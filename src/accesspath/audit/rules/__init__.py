"""Every audit rule, in the order findings are reported for one place."""

from __future__ import annotations

from accesspath.audit.rule import AuditRule
from accesspath.audit.rules.endpoint_network import (
    EcsEndpointSiblings,
    EndpointOtherRegion,
    EndpointPrivateDnsOff,
    EndpointSecurityGroup,
)
from accesspath.audit.rules.endpoint_policies import (
    EndpointDefaultPolicy,
    EndpointExfiltration,
    EndpointForeignPrincipals,
    EndpointNoAllow,
)
from accesspath.audit.rules.instances import InstanceMetadataCredentials
from accesspath.audit.rules.task_roles import (
    RoleMixup,
    TaskRoleConfusedDeputy,
    TaskRoleOverbroad,
)

RULE_CLASSES: tuple[type[AuditRule], ...] = (
    TaskRoleConfusedDeputy,
    EndpointExfiltration,
    EndpointForeignPrincipals,
    EndpointNoAllow,
    EndpointDefaultPolicy,
    TaskRoleOverbroad,
    InstanceMetadataCredentials,
    RoleMixup,
    EndpointSecurityGroup,
    EcsEndpointSiblings,
    EndpointPrivateDnsOff,
    EndpointOtherRegion,
)

__all__ = ["RULE_CLASSES"]
