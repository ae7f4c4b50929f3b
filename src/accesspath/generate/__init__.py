"""Least privilege from what was observed: policies generated from the emulator's decision log.

``read_decision_log`` reads the JSON lines ``accesspath serve``/``run`` write; ``generate_from_log``
writes the narrowest identity policy per role and endpoint policy per endpoint that allow every
observed request, asks the engine which patterns allow more than was observed, and, given the
environment, re-decides every observed request with the generated policies in place.
"""

from accesspath.generate.cloudformation import (
    endpoint_policy_property,
    endpoint_policy_snippet,
    identity_policy_resource,
    identity_policy_snippet,
)
from accesspath.generate.confirm import (
    BroaderThanObserved,
    Confirmation,
    ConfirmedRequest,
    broader_than_observed,
    confirm,
    confirmed_environment,
)
from accesspath.generate.decision_log import (
    DecisionLog,
    ObservedPath,
    ObservedRequest,
    SkippedLines,
    read_decision_log,
)
from accesspath.generate.generator import (
    GeneratedPolicies,
    generate_from_log,
    select_roles,
)
from accesspath.generate.policies import (
    EndpointPolicy,
    GeneratedStatement,
    IdentityPolicy,
    RoleIdentity,
    endpoint_policy,
    identity_policy,
)
from accesspath.generate.resources import (
    DEFAULT_GROUP_THRESHOLD,
    ResourcePattern,
    group_resources,
)

__all__ = [
    "DEFAULT_GROUP_THRESHOLD", "BroaderThanObserved", "Confirmation", "ConfirmedRequest", "DecisionLog",
    "EndpointPolicy", "GeneratedPolicies", "GeneratedStatement", "IdentityPolicy", "ObservedPath",
    "ObservedRequest", "ResourcePattern", "RoleIdentity", "SkippedLines", "broader_than_observed", "confirm",
    "confirmed_environment", "endpoint_policy", "endpoint_policy_property", "endpoint_policy_snippet",
    "generate_from_log", "group_resources", "identity_policy", "identity_policy_resource",
    "identity_policy_snippet", "read_decision_log", "select_roles",
]
