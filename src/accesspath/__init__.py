"""accesspath: the offline twin of AWS authorization for ECS workloads behind VPC endpoints.

The public surface: parse policies (:func:`parse_policy`), describe a request
(:class:`AuthorizationRequest`, :func:`principal_from_arn`, :class:`RequestContext`), gather the
policies that apply (:class:`PolicySet`) and ask the one evaluator (:func:`authorize`).
"""

from accesspath.engine import (
    AuthorizationRequest, AuthorizationResult, ContextValue, Decision, PolicySet, RequestContext,
    RequestPrincipal, authorize, principal_from_arn,
)
from accesspath.errors import UsageError
from accesspath.policy import Policy, PolicyIssue, PolicyType, parse_policy

__version__ = "0.1.0"

__all__ = [
    "AuthorizationRequest", "AuthorizationResult", "ContextValue", "Decision", "Policy", "PolicyIssue",
    "PolicySet", "PolicyType", "RequestContext", "RequestPrincipal", "UsageError", "authorize",
    "parse_policy", "principal_from_arn", "__version__",
]
