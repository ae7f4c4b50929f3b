"""The evaluator: one engine that every accesspath feature asks."""

from accesspath.engine.authorize import (
    AuthorizationResult,
    Decision,
    GateOutcome,
    GateStatus,
    PolicySet,
    authorize,
)
from accesspath.engine.conditions import ConditionResult, Outcome
from accesspath.engine.evaluate import (
    CompiledPolicy,
    PolicyOutcome,
    StatementMatch,
    StatementTrace,
)
from accesspath.engine.principals import GrantKind
from accesspath.engine.request import (
    AuthorizationRequest,
    ContextValue,
    PrincipalFormatError,
    PrincipalKind,
    RequestContext,
    RequestPrincipal,
    principal_from_arn,
)

__all__ = [
    "AuthorizationRequest", "AuthorizationResult", "CompiledPolicy", "ConditionResult", "ContextValue",
    "Decision", "GateOutcome", "GateStatus", "GrantKind", "Outcome", "PolicyOutcome", "PolicySet",
    "PrincipalFormatError", "PrincipalKind", "RequestContext", "RequestPrincipal", "StatementMatch",
    "StatementTrace", "authorize", "principal_from_arn",
]
